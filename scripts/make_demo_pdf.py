"""Generate the binary documents of the demo corpus (one PDF, two DOCX files).

The PDF and DOCX files in knowledge_base/demo_corpus/ are committed, so nobody needs to run
this script; it exists so the documents can be edited and rebuilt. fpdf2 and python-docx are
deliberately NOT project dependencies: run it from a scratch virtual environment:

    python3 -m venv /tmp/pdfvenv
    /tmp/pdfvenv/bin/pip install fpdf2==2.8.9 python-docx==1.2.0
    /tmp/pdfvenv/bin/python scripts/make_demo_pdf.py

Dates inside the files are fixed so that rebuilding unchanged text gives the same content
(and the same content hash at ingest).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from docx import Document
from fpdf import FPDF

CORPUS = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo_corpus"
FIXED_DATE = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

# Each section is (heading, [paragraphs]); a paragraph starting with "- " is a bullet.
Sections = list[tuple[str, list[str]]]

MPF_TITLE = "Mandatory Provident Fund: the basics for employees and employers"
MPF_PAGES: list[Sections] = [
    [
        (
            "What the MPF is",
            [
                "The Mandatory Provident Fund (MPF) is a compulsory retirement savings scheme "
                "for people who work in Hong Kong. It is supervised by the Mandatory Provident "
                "Fund Schemes Authority (MPFA). Contributions are invested in funds chosen by "
                "the scheme member and are kept until retirement.",
            ],
        ),
        (
            "Who must join",
            [
                "Employees and self-employed persons aged 18 to 64 must join an MPF scheme. "
                "An employer must enrol a new employee in a registered scheme within 60 days "
                "of the start of employment.",
                "- Domestic helpers and people covered by a statutory pension scheme are exempt.",
                "- Employees employed for less than 60 days are also exempt.",
            ],
        ),
        (
            "How much is paid",
            [
                "The employer and the employee each contribute 5% of the employee's relevant "
                "income every month.",
                "- If the employee's monthly relevant income is below HK$7,100, the employee "
                "does not have to contribute, but the employer must still pay 5%.",
                "- Relevant income above HK$30,000 a month is not counted, so the maximum "
                "mandatory contribution is HK$1,500 a month each for the employer and the "
                "employee.",
                "- The employee does not contribute for the first 30 days of employment.",
                "Contributions must be paid to the trustee on or before the 10th day of the "
                "following month.",
            ],
        ),
    ],
    [
        (
            "Withdrawing the benefits",
            [
                "MPF benefits are normally paid when the member reaches the age of 65. A member "
                "who retires early at 60 or above may also withdraw. Benefits can be withdrawn "
                "as a lump sum or in instalments.",
                "Early withdrawal is allowed only on the following grounds:",
                "- permanent departure from Hong Kong;",
                "- total incapacity or terminal illness;",
                "- a small balance of HK$5,000 or less, with no contributions for 12 months;",
                "- death, in which case the benefits are paid to the member's estate.",
            ],
        ),
        (
            "Tax deduction",
            [
                "Mandatory contributions paid by an employee are deductible for salaries tax, "
                "up to HK$18,000 in a year of assessment.",
            ],
        ),
        (
            "Managing your account",
            [
                "Members can check their accounts, change fund choices and transfer benefits "
                "through the eMPF Platform. Under the Employee Choice Arrangement, an employee "
                "may transfer the employee's part of the contributions from the current "
                "employment to a scheme of their own choice once a year.",
            ],
        ),
    ],
]

CNCC_TITLE = "Certificate of No Criminal Conviction"
CNCC_SECTIONS: Sections = [
    (
        "What the certificate is",
        [
            "A Certificate of No Criminal Conviction (CNCC) is a document issued by the Hong "
            "Kong Police Force stating that the holder has no criminal conviction record in "
            "Hong Kong. It is often called a good conduct certificate.",
        ],
    ),
    (
        "When it is issued",
        [
            "The Police issue a CNCC only when another government requires it, mainly for:",
            "- immigration to another country or territory;",
            "- applying for a long-term visa, such as a working holiday or student visa;",
            "- adopting a child.",
            "A CNCC is not issued for job applications in Hong Kong or for general personal use.",
        ],
    ),
    (
        "How to apply",
        [
            "Apply online through the Police e-services, or in person at the Certificate of No "
            "Criminal Conviction Office. You need your Hong Kong identity card, your travel "
            "document and a letter or form from the foreign authority showing that a CNCC is "
            "required.",
            "You must have lived in Hong Kong at some time after reaching the age of 16.",
        ],
    ),
    (
        "Fee and processing time",
        [
            "There is no fee. The certificate is normally ready in about four weeks. In most "
            "cases it is sent directly to the consulate or immigration authority concerned, "
            "not to the applicant.",
        ],
    ),
]

SFA_TITLE = "學生資助計劃"
SFA_SECTIONS: Sections = [
    (
        "計劃簡介",
        [
            "在職家庭及學生資助事務處（學生資助處）為有經濟需要的中小學學生提供多項資助，"
            "確保學生不會因家庭經濟困難而失去學習機會。",
        ],
    ),
    (
        "資助項目",
        [
            "- 學校書簿津貼：資助購買課本及學習用品；",
            "- 學生車船津貼：資助住所與學校距離較遠的學生的交通費；",
            "- 上網費津貼：資助有需要家庭的上網費用，全額資助為每戶每年港幣1,700元；",
            "- 考試費減免：資助中學文憑考試的考試費。",
        ],
    ),
    (
        "入息審查",
        [
            "學生資助處以「經調整家庭收入」機制評估申請家庭的經濟狀況，"
            "即以家庭全年總收入除以家庭成員人數再加一。"
            "審查結果分為全額資助及半額資助兩個級別。",
        ],
    ),
    (
        "申請方法",
        [
            "每個學年須申請一次。學生資助處一般在每年4月至6月透過學校派發申請表，"
            "家長亦可使用「智方便」在網上申請。首次申請須提交家庭成員的身份證明及入息證明。",
            "同時申請在職家庭津貼的家庭，可使用同一份入息資料，簡化手續。",
        ],
    ),
    (
        "專上學生",
        [
            "修讀專上課程的學生，可申請須經入息審查的助學金及低息貸款，或毋須入息審查的貸款計劃。",
        ],
    ),
]


class _NumberedPDF(FPDF):
    """Prints "Page N of M" in the footer (fpdf2 calls footer() before each page break)."""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 6, f"Page {self.page_no()} of {{nb}}", align="C")


def write_mpf_pdf(path: Path) -> None:
    pdf = _NumberedPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(MPF_TITLE)
    pdf.set_author("Demo corpus (written by the samyu team)")
    pdf.set_margins(20, 20, 20)
    for page_number, sections in enumerate(MPF_PAGES, start=1):
        pdf.add_page()
        if page_number == 1:
            pdf.set_font("Helvetica", "B", 16)
            pdf.multi_cell(0, 9, MPF_TITLE, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        for heading, paragraphs in sections:
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 11)
            for paragraph in paragraphs:
                text = "  * " + paragraph[2:] if paragraph.startswith("- ") else paragraph
                pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            pdf.ln(2)
    pdf.output(str(path))


def write_docx(path: Path, title: str, sections: Sections) -> None:
    document = Document()
    props = document.core_properties
    props.title = title
    props.author = "Demo corpus (written by the samyu team)"
    props.created = props.modified = FIXED_DATE.replace(tzinfo=None)
    document.add_heading(title, level=1)
    for heading, paragraphs in sections:
        document.add_heading(heading, level=2)
        for paragraph in paragraphs:
            if paragraph.startswith("- "):
                document.add_paragraph(paragraph[2:], style="List Bullet")
            else:
                document.add_paragraph(paragraph)
    document.save(str(path))


def main() -> None:
    write_mpf_pdf(CORPUS / "en" / "mpf-basics.pdf")
    write_docx(
        CORPUS / "en" / "certificate-of-no-criminal-conviction.docx", CNCC_TITLE, CNCC_SECTIONS
    )
    write_docx(CORPUS / "zh-hant" / "student-financial-assistance.docx", SFA_TITLE, SFA_SECTIONS)


if __name__ == "__main__":
    main()
