"""Each policy on hand-written transcripts, spoken and written, plus hard negatives."""

from __future__ import annotations

import pytest
from redact_helpers import transcript

from earmark.redact import POLICIES, RedactOptions, redact
from earmark.redact._text import luhn_ok, read_number, tokenize

ALL = RedactOptions(POLICIES, "entity_name")


def redacted(text: str, options: RedactOptions = ALL) -> str:
    return redact(transcript(text), options).transcript.text


CASES = [
    # phone_number
    ("my number is five five five, one two three four", "my number is [PHONE_NUMBER]"),
    (
        "my number is oh seven seven zero zero nine zero one two three four",
        "my number is [PHONE_NUMBER]",
    ),
    ("call me at 555-867-5309 tomorrow", "call me at [PHONE_NUMBER] tomorrow"),
    ("it's (212) 555-0147 okay", "it's [PHONE_NUMBER] okay"),
    ("call one eight hundred five five five oh one nine nine", "call [PHONE_NUMBER]"),
    ("text me at 3105550199", "text me at [PHONE_NUMBER]"),
    ("my cell is nine one seven double five two three eight nine oh", "my cell is [PHONE_NUMBER]"),
    # email_address
    ("my email is john dot smith at gmail dot com", "my email is [EMAIL_ADDRESS]"),
    ("send it to john at example dot org please", "send it to [EMAIL_ADDRESS] please"),
    ("it's jsmith@acme.com all lower case", "it's [EMAIL_ADDRESS] all lower case"),
    ("sarah underscore lee at yahoo dot co dot uk", "[EMAIL_ADDRESS]"),
    # credit_card_number
    (
        "my card is four one one one one one one one one one one one one one one one",
        "my card is [CREDIT_CARD_NUMBER]",
    ),
    ("the card is 4111 1111 1111 1111", "the card is [CREDIT_CARD_NUMBER]"),
    ("here you go 5555555555554444", "here you go [CREDIT_CARD_NUMBER]"),
    # credit_card_cvv / credit_card_expiration
    ("and the cvv is one two three", "and the cvv is [CREDIT_CARD_CVV]"),
    ("the security code is 082", "the security code is [CREDIT_CARD_CVV]"),
    ("it expires oh three twenty six", "it expires [CREDIT_CARD_EXPIRATION]"),
    ("the expiry is 09/28", "the expiry is [CREDIT_CARD_EXPIRATION]"),
    # us_social_security_number
    ("my social is 123-45-6789", "my social is [US_SOCIAL_SECURITY_NUMBER]"),
    (
        "social security number one two three, four five, six seven eight nine",
        "social security number [US_SOCIAL_SECURITY_NUMBER]",
    ),
    (
        "the last four of my social are six six two one",
        "the last four of my social are [US_SOCIAL_SECURITY_NUMBER]",
    ),
    ("it's 078-05-1120 ok", "it's [US_SOCIAL_SECURITY_NUMBER] ok"),
    # date_of_birth
    ("i was born on march seventh nineteen sixty one", "i was born on [DATE_OF_BIRTH]"),
    ("date of birth is 03/07/1961", "date of birth is [DATE_OF_BIRTH]"),
    ("my dob is june twelfth, nineteen eighty five", "my dob is [DATE_OF_BIRTH]"),
    # person_name
    ("hi my name is john smith and i'm calling", "hi my name is [PERSON_NAME] and i'm calling"),
    ("this is sarah calling from billing", "this is [PERSON_NAME] calling from billing"),
    ("can i speak to mr patel please", "can i speak to mr [PERSON_NAME] please"),
    ("my last name is s m i t h", "my last name is [PERSON_NAME]"),
    ("I spoke with Maria Garcia yesterday.", "I spoke with [PERSON_NAME] yesterday."),
    ("my name is will turner", "my name is [PERSON_NAME]"),
    # location
    ("i live at one two three main street", "i live at [LOCATION]"),
    ("ship it to 42 Elm Street apartment 4b", "ship it to [LOCATION]"),
    ("we're in springfield illinois six two seven oh one", "we're in [LOCATION]"),
    ("i'm calling from boston", "i'm calling from [LOCATION]"),
    ("I live in Seattle, Washington.", "I live in [LOCATION]."),
    ("my zip code is nine oh two one oh", "my zip code is [LOCATION]"),
    # banking_information, account_number
    ("my routing number is 021000021", "my routing number is [BANKING_INFORMATION]"),
    ("my account number is seven seven four five one two", "my account number is [ACCOUNT_NUMBER]"),
    ("member id hz-5235-001", "member id [ACCOUNT_NUMBER]"),
    # others
    ("my password is sunshine one two three", "my password is [PASSWORD]"),
    ("my username is jsmith42", "my username is [USERNAME]"),
    ("go to www dot example dot com", "go to [URL]"),
    ("the ip is 192.168.0.1", "the ip is [IP_ADDRESS]"),
    ("the ip is one nine two dot one six eight dot zero dot one", "the ip is [IP_ADDRESS]"),
    ("i'm forty two years old", "i'm [PERSON_AGE] years old"),
    (
        "my passport number is p a four five six eight three three two",
        "my passport number is [PASSPORT_NUMBER]",
    ),
    (
        "my driver's license number is d one two three four five six seven",
        "my driver's license number is [DRIVERS_LICENSE]",
    ),
    (
        "my medicare number is one e g four t e five m k seven two",
        "my medicare number is [HEALTHCARE_NUMBER]",
    ),
    ("my order number is four five six seven eight nine", "my order number is [NUMBER_SEQUENCE]"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_policy(text: str, expected: str) -> None:
    assert redacted(text) == expected


NEGATIVES = [
    "that'll be twenty five dollars and ninety nine cents",
    "i ordered three boxes and only two arrived",
    "the meeting is at 3:30 pm on tuesday",
    "one two three testing, can you hear me",
    "it costs $49.99 plus tax",
    "we have about four hundred customers",
    "will you be able to help me today",
    "may i put you on hold for two minutes",
    "i'd like to pay my bill please",
    "the rose bushes need water",
    "i will mark it as resolved",
    "press one for billing or two for support",
    "the price is one thousand two hundred dollars",
    "the mobile app keeps crashing",
    "we're reading the manual right now",
    "i forgot my password again",
    "my card was declined twice",
    "born to be wild is my favourite song",
    "The total came to $89.50.",
    "We have 250 employees.",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_hard_negative(text: str) -> None:
    result = redact(transcript(text), ALL)
    assert result.spans == ()
    assert result.transcript.text == text


def test_only_requested_policies() -> None:
    text = "my name is john smith and my number is five five five one two three four"
    out = redacted(text, RedactOptions(("phone_number",), "entity_name"))
    assert out == "my name is john smith and my number is [PHONE_NUMBER]"


def test_email_not_redacted_as_name_when_only_names_asked() -> None:
    text = "it's john dot smith at gmail dot com"
    assert redacted(text, RedactOptions(("person_name",))) == text


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("5555555555554444", True),
        ("378282246310005", True),
        ("6011111111111117", True),
        ("1234567812345678", False),
        ("12345", False),
    ],
)
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


def test_card_needs_luhn_without_context() -> None:
    # 16 digits failing Luhn, no card word near: not a card (a number sequence instead)
    result = redact(transcript("the code is 4111 1111 1111 1112"), ALL)
    assert [s.policy for s in result.spans] != ["credit_card_number"]
    # with a card word it is still redacted as a card (ASR may have misheard a digit)
    result = redact(transcript("my card number is 4111 1111 1111 1112"), ALL)
    assert [s.policy for s in result.spans] == ["credit_card_number"]


@pytest.mark.parametrize(
    ("spoken", "digits"),
    [
        ("five five five, one two three four", "5551234"),
        ("oh seven seven zero", "0770"),
        ("eight hundred five five five", "800555"),
        ("nineteen sixty one", "1961"),
        ("two thousand and five", "2005"),
        ("twenty twenty six", "2026"),
        ("double five triple two", "55222"),
        ("four hundred twelve", "412"),
        ("555-123-4567", "5551234567"),
    ],
)
def test_spoken_numbers(spoken: str, digits: str) -> None:
    run = read_number(tokenize(spoken.split()), 0)
    assert run is not None and run.digits == digits
