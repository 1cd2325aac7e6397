"""One conversation turn: language, prompt, LLM streaming, sentence splitting, orchestration, barge-in.

May import knowledge_base and voices; never imports serving, so a turn runs the same from the
CLI and from the socket.
"""
