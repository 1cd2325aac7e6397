"""The stages of one turn, each with one job (and its own test in tests/assistant/stages/).

    endpointing      voices.streaming (VAD) + voices.turn_detection (semantic end of turn)
    recognition      voices.streaming: utterances decoded by the transcriber
    language         language.decide_language: the turn's language, decided once
    acknowledgement  acknowledgement.is_acknowledgement: 嗯 / ok during an answer is not a turn
    query rewrite    assistant.rewrite.rewrite_follow_up
    retrieval        retrieval.retrieve: Hits, the caller's language first
    evidence gate    assistant.gate.judge_evidence (called by the answerer)
    generation       assistant.answerer: the model's stream, split into sentences
    sentence check   checking.SentenceChecker: each sentence checked before it is said
    release          release.Release: what may be said now (the first sentence a clause at a
                     time, each clause checked as the sentence so far)
    synthesis        synthesis.speak: each sentence spoken while the model writes the next
    output pacing    pacing.PlaybackClock: how far the caller has heard (estimate or report)

`assistant.session.VoiceSession` chains them for a live caller; `assistant.cli` (`samyu ask`)
runs the same chain over a file or a typed question.
"""
