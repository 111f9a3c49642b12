"""Topic-free talk of phone calls: greetings, identity checks, holds and goodbyes.

Support and sales calls spend much of their words on the same formulas whatever the
call is about ("can I take your full name", "bear with me", "is there anything else I
can help you with today"). The embedding tagger compares each sentence with these and
with the built-in neutral sentences (:func:`earmark.tagging.embedding.neutral_texts`)
to judge how much the sentence says about any topic, so that the formulas do not pull
a call towards whichever tag happens to sound most like them. They are written as
speech comes out of a recogniser: lower case, no punctuation. They are generic
call-centre phrases, not taken from any evaluation set.
"""

from __future__ import annotations

__all__ = ["CALL_BOILERPLATE"]

CALL_BOILERPLATE: tuple[str, ...] = (
    "thank you for calling customer service how can I help you today",
    "hello you're through to the help desk my name is Sam what can I do for you",
    "good morning thanks for calling how may I help",
    "hi yes hello I was hoping you could help me",
    "can I take your full name please",
    "can you confirm your date of birth for security",
    "and the email address on the account please",
    "could I have your postcode and the first line of your address",
    "what's the phone number on the account",
    "can you spell that for me please",
    "thank you you're verified",
    "let me just pull that up for you bear with me one moment",
    "thanks for holding sorry to keep you waiting",
    "give me a second while I look into that",
    "okay let me check that for you",
    "I'm sorry to hear that let's get that sorted for you",
    "I do apologise for the inconvenience",
    "is there anything else I can help you with today",
    "no that's everything thank you",
    "thank you for calling have a great day",
    "you're welcome have a lovely evening bye",
    "cheers thanks bye bye",
    "okay brilliant thank you so much",
    "right okay yeah that's fine",
    "um yeah so basically",
    "sorry could you repeat that",
    "I'll send you an email to confirm",
    "I've put a note on your account",
    "your reference number is",
    "just to confirm you said",
)
