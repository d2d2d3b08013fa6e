"""Passwords too easy to guess: the most common ones, one character over and over, simple
sequences and keyboard runs, short repeated patterns, and the user's own phone number or
e-mail name. ``weakness`` says which and ``refuse_weak`` says so to the user; the length
rules live in ``accounts.check_password_strength``, which calls it.

The list is built in (no download): passwords that lead the published leak statistics,
English and Chinese (pinyin and numbers), eight characters or more, since shorter ones
are refused by length anyway. A common word followed by a year or a few digits or
symbols (``password2025``, ``woaini1314!``) counts as the word.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from flask_babel import lazy_gettext as _l

from courses.errors import ValidationFailed

COMMON = frozenset(
    """
    00000000 0000000000 01234567 0123456789 11111111 1111111111 11223344 111222333
    112233445566 12121212 123123123 12341234 12344321 12345678 123456789 1234567890
    12345678910 123456abc 123456qq 123654789 12369874 123qweasd 123qweasdzxc 1314520520
    1314521521 147258369 147852369 159357456 159753123 19491001 1a2b3c4d 1q2w3e4r
    1q2w3e4r5t 1qaz2wsx 1qaz2wsx3edc 20082008 22222222 31415926 33333333 44444444
    520131400 5201314520 5201314 55555555 654321abc 66666666 66668888 77777777 7758521521
    7758258 87654321 88888888 88889999 987654321 9876543210 99999999 a1234567 a12345678
    a123456789 a1b2c3d4 aa123456 aa12345678 aaaaaaaa abc12345 abc123456 abcd1234
    abcdefgh access14 admin123 admin888 administrator asd12345 asd123456 asdasdasd
    asdf1234 asdfasdf asdfghjk asdfghjkl azerty123 baseball basketball batman123
    big123456 charlie1 computer dragon123 football freedom1 googledotcom iloveyou
    iloveyou1 jennifer jordan23 letmein1 liu123456 li123456 linkedin login123 lovelove
    master123 michael1 monkey12 mustang1 password password1 password12 password123
    passw0rd p@ssw0rd p@ssword princess q1w2e3r4 q1w2e3r4t5 qazwsxedc qq123456
    qq123456789 qwe123456 qwe123qwe qwer1234 qwerasdf qwerty12 qwerty123 qwertyui
    qwertyuiop shadow12 sunshine superman test1234 trustno1 wang1234 wang123456
    welcome1 woaini1314 woaini520 woaiwojia wocaonima xiaoming zhang123 zhang123456
    zxc123456 zxcvbnm1 zxcvbnm123 zxcvbnma
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
#: Words that are weak with a year or a few digits or symbols after them.
COMMON_WORDS = frozenset(
    """
    password passw0rd p@ssw0rd p@ssword qwerty qwertyui iloveyou woaini admin welcome
    letmein monkey dragon master login abc abcd abcdef asdf zxcv qwer qwe asd zxc
    aini woaini woaiwojia wangwang zhangsan lisi academy shegong
    """.split()  # noqa: SIM905
)
_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc4rfv5tgb")
_TAIL = re.compile(r"[\d!@#$%^&*.?_\-]{0,6}$")


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def _is_run(password: str) -> bool:
    """Each character one after the other (abcdefgh, 87654321), or a keyboard run."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    if len(steps) == 1 and steps <= {1, -1}:
        return True
    return any(password in row or password in row[::-1] for row in _ROWS)


def _is_repeated(password: str) -> bool:
    """A short pattern over and over: aaaaaaaa, abababab, abcabcabc, 12341234."""
    for size in range(1, 5):
        unit = password[:size]
        if len(password) >= 2 * size and unit * (len(password) // size) == password:
            return True
    return False


def _personal(password: str, email: str | None, phone: str | None) -> bool:
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone or "") if ch.isascii())
    digits = "".join(ch for ch in digits if ch.isdigit())[-11:]
    if len(digits) >= 7 and (digits in password or password in digits):
        return True
    local = _plain(email or "").partition("@")[0]
    if len(local) < 3:
        return False
    if password == local or password in local:
        return True
    # The name with a few characters around it (wang.lei2025 for wang.lei@…).
    return local in password and len(password) - len(local) <= 4


def weakness(password: str, *, email: str | None = None, phone: str | None = None) -> str | None:
    """ "common" or "personal" when the password is too easy to guess, else None."""
    plain = _plain(password)
    if plain in COMMON or _is_repeated(plain) or _is_run(plain):
        return "common"
    if _TAIL.sub("", plain, count=1) in COMMON_WORDS:
        return "common"
    if _personal(plain, email, phone):
        return "personal"
    return None


def refuse_weak(password: str, *, email: str | None = None, phone: str | None = None) -> None:
    """Raise ``ValidationFailed`` on the password field, saying why, for a weak password."""
    found = weakness(password, email=email, phone=phone)
    if found == "personal":
        message = _l("The password must not be your phone number or your e-mail name.")
    elif found is not None:
        message = _l(
            "This password is too easy to guess: avoid common passwords and "
            "repeated or sequential characters, and mix letters with digits."
        )
    else:
        return
    raise ValidationFailed(fields={"password": [message]})
