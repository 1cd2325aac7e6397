"""Documents -> chunks that end at sentence boundaries (。！？； and . ! ? ;), with citations.

LangChain's RecursiveCharacterTextSplitter does the splitting: it tries paragraph breaks, then
line breaks, then sentence ends (Chinese and English), then clause marks, and only then spaces,
so a chunk ends mid-sentence only when one sentence is longer than the chunk size.
"""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from knowledge_base.loaders import LoadedDocument
from knowledge_base.normalise import script_tag
from knowledge_base.types import Chunk

SEPARATORS = [
    "\n\n",
    "\n",
    "。",
    "！",
    "？",
    "；",
    ". ",
    "! ",
    "? ",
    "; ",
    "，",
    ", ",
    "、",
    " ",
    "",
]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",  # the 。 stays with the sentence it ends
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 2),
        add_start_index=True,
        strip_whitespace=True,
    )


def chunk_document(
    document: LoadedDocument,
    collection: str,
    *,
    chunk_size: int,
    chunk_overlap: int,
    max_chunks: int,
) -> list[Chunk]:
    """Split one document; each chunk keeps its document id, title, section and char span."""
    splitter = make_splitter(chunk_size, chunk_overlap)
    pieces = splitter.create_documents([document.text])
    if len(pieces) > max_chunks:
        raise ValueError(f"{len(pieces)} chunks > kb.max_chunks_per_document={max_chunks}")
    chunks = []
    for number, piece in enumerate(pieces):
        start = max(int(piece.metadata.get("start_index", 0)), 0)
        text = piece.page_content
        chunks.append(
            Chunk(
                id=f"{document.id}#{number}",
                doc_id=document.id,
                collection=collection,
                text=text,
                title=document.title,
                section=document.section_at(start),
                start=start,
                end=start + len(text),
                language=script_tag(text),
                url=document.url,
            )
        )
    return chunks


def search_text(chunk: Chunk) -> str:
    """What the dense and lexical indexes see: the title and section give a short chunk context."""
    heading = (
        chunk.title
        if not chunk.section or chunk.section == chunk.title
        else (f"{chunk.title} — {chunk.section}")
    )
    return f"{heading}\n{chunk.text}"
