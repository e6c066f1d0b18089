"""Plausible Italian business data for the simulated portal, drawn from a ``random.Random``.

Every function takes the generator it draws from, so a caller that seeds one
``Random`` gets the same data in every process. Nothing here knows about the
portal's records: these are the bricks (names, addresses, fiscal identifiers,
Komet article codes) that :mod:`archid.sim.dataset` builds records from.

The fiscal identifiers are valid, not just well-shaped: a Partita IVA carries
its check digit and a codice fiscale its check character, and
:func:`is_valid_partita_iva` / :func:`is_valid_codice_fiscale` verify them.
The text produced never has leading, trailing or doubled spaces, so it is
already in the canonical form of :mod:`archid.records`.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class City:
    """A real Italian municipality: name, province code, CAP range, phone prefix.

    ``cap_first`` is the lowest postal code; big cities span ``cap_span``
    consecutive codes. ``cadastral`` is the Belfiore code used in fiscal codes.
    """

    name: str
    province: str
    cap_first: int
    cap_span: int
    phone_prefix: str
    cadastral: str


CITIES: tuple[City, ...] = (
    City("Roma", "RM", 118, 82, "06", "H501"),
    City("Milano", "MI", 20121, 42, "02", "F205"),
    City("Napoli", "NA", 80121, 27, "081", "F839"),
    City("Torino", "TO", 10121, 36, "011", "L219"),
    City("Palermo", "PA", 90121, 31, "091", "G273"),
    City("Genova", "GE", 16121, 46, "010", "D969"),
    City("Bologna", "BO", 40121, 21, "051", "A944"),
    City("Firenze", "FI", 50121, 25, "055", "D612"),
    City("Bari", "BA", 70121, 11, "080", "A662"),
    City("Catania", "CT", 95121, 11, "095", "C351"),
    City("L'Aquila", "AQ", 67100, 1, "0862", "A345"),
    City("Venezia", "VE", 30121, 53, "041", "L736"),
    City("Verona", "VR", 37121, 22, "045", "L781"),
    City("Messina", "ME", 98121, 49, "090", "F158"),
    City("Padova", "PD", 35121, 22, "049", "G224"),
    City("Trieste", "TS", 34121, 31, "040", "L424"),
    City("Brescia", "BS", 25121, 16, "030", "B157"),
    City("Sant'Anastasia", "NA", 80048, 1, "081", "I262"),
    City("Parma", "PR", 43121, 6, "0521", "G337"),
    City("Taranto", "TA", 74121, 3, "099", "L049"),
    City("Prato", "PO", 59100, 1, "0574", "G999"),
    City("Modena", "MO", 41121, 6, "059", "F257"),
    City("Reggio Calabria", "RC", 89121, 14, "0965", "H224"),
    City("Reggio Emilia", "RE", 42121, 4, "0522", "H223"),
    City("Perugia", "PG", 6121, 14, "075", "G478"),
    City("Livorno", "LI", 57121, 8, "0586", "E625"),
    City("Ravenna", "RA", 48121, 5, "0544", "H199"),
    City("Cagliari", "CA", 9121, 14, "070", "B354"),
    City("Foggia", "FG", 71121, 2, "0881", "D643"),
    City("Rimini", "RN", 47921, 3, "0541", "H294"),
    City("Castell'Arquato", "PC", 29014, 1, "0523", "C145"),
    City("Sant'Elpidio a Mare", "FM", 63811, 1, "0734", "I324"),
    City("Salerno", "SA", 84121, 15, "089", "H703"),
    City("Ferrara", "FE", 44121, 4, "0532", "D548"),
    City("Sassari", "SS", 7100, 1, "079", "I452"),
    City("Latina", "LT", 4100, 1, "0773", "E472"),
    City("Monza", "MB", 20900, 1, "039", "F704"),
    City("Siracusa", "SR", 96100, 1, "0931", "I754"),
    City("Pescara", "PE", 65121, 8, "085", "G482"),
    City("Bergamo", "BG", 24121, 9, "035", "A794"),
    City("Forlì", "FC", 47121, 2, "0543", "D704"),
    City("Trento", "TN", 38121, 3, "0461", "L378"),
    City("Vicenza", "VI", 36100, 1, "0444", "L840"),
    City("Terni", "TR", 5100, 1, "0744", "L117"),
    City("Bolzano", "BZ", 39100, 1, "0471", "A952"),
    City("Novara", "NO", 28100, 1, "0321", "F952"),
    City("Piacenza", "PC", 29121, 2, "0523", "G535"),
    City("Ancona", "AN", 60121, 11, "071", "A271"),
    City("Udine", "UD", 33100, 1, "0432", "L483"),
    City("Arezzo", "AR", 52100, 1, "0575", "A390"),
    City("Cesena", "FC", 47521, 2, "0547", "C573"),
    City("Lecce", "LE", 73100, 1, "0832", "E506"),
    City("La Spezia", "SP", 19121, 6, "0187", "E463"),
    City("Pesaro", "PU", 61121, 2, "0721", "G479"),
    City("Alessandria", "AL", 15121, 1, "0131", "A182"),
    City("Como", "CO", 22100, 1, "031", "C933"),
    City("Pisa", "PI", 56121, 8, "050", "G702"),
    City("Lucca", "LU", 55100, 1, "0583", "E715"),
    City("Treviso", "TV", 31100, 1, "0422", "L407"),
    City("Varese", "VA", 21100, 1, "0332", "L682"),
    City("Pavia", "PV", 27100, 1, "0382", "G388"),
    City("Cremona", "CR", 26100, 1, "0372", "D150"),
    City("Asti", "AT", 14100, 1, "0141", "A479"),
    City("Sesto San Giovanni", "MI", 20099, 1, "02", "I690"),
    City("San Benedetto del Tronto", "AP", 63074, 1, "0735", "H769"),
    City("Castellammare di Stabia", "NA", 80053, 1, "081", "C129"),
)

MALE_NAMES = (
    "Marco", "Giuseppe", "Giovanni", "Antonio", "Francesco", "Luca", "Andrea",
    "Alessandro", "Stefano", "Paolo", "Roberto", "Massimo", "Davide", "Matteo",
    "Simone", "Fabio", "Claudio", "Riccardo", "Lorenzo", "Gianluca", "Daniele",
    "Alberto", "Enrico", "Emanuele", "Pietro", "Salvatore", "Vincenzo", "Carlo",
    "Federico", "Nicola", "Michele", "Filippo", "Tommaso", "Gabriele", "Giorgio",
)  # fmt: skip
FEMALE_NAMES = (
    "Maria", "Anna", "Giulia", "Francesca", "Chiara", "Sara", "Laura", "Elena",
    "Valentina", "Alessandra", "Federica", "Silvia", "Paola", "Roberta", "Monica",
    "Elisa", "Martina", "Cristina", "Barbara", "Simona", "Daniela", "Giovanna",
    "Claudia", "Ilaria", "Serena", "Beatrice", "Caterina", "Lucia", "Marta",
)  # fmt: skip
SURNAMES = (
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo",
    "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini",
    "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana",
    "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini",
    "Leone", "Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra",
    "Coppola", "De Santis", "D'Angelo", "Marchetti", "Parisi", "Villa", "Conte",
    "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso", "Valentini",
    "Messina", "Sala", "De Angelis", "Gatti", "Pellegrini", "Palumbo", "Sanna",
    "Farina", "Rizzi", "Monti", "Cattaneo", "Morelli", "Amato", "Silvestri",
    "Mazza", "Testa", "Grassi", "Pellegrino", "Carbone", "Giuliani", "Benedetti",
    "Barone", "Rossetti", "Caputo", "Montanari", "Guerra", "Palmieri", "Bernardi",
    "Dell'Acqua", "Orlando", "Tedesco", "Zanetti", "Bassi", "Negri", "Fumagalli",
)  # fmt: skip
STREET_KINDS = ("Via", "Via", "Via", "Viale", "Corso", "Piazza", "Largo", "Vicolo")
STREET_NAMES = (
    "Roma", "Garibaldi", "Giuseppe Mazzini", "Vittorio Emanuele II", "Dante Alighieri",
    "XX Settembre", "IV Novembre", "della Repubblica", "Cavour", "Guglielmo Marconi",
    "Giacomo Matteotti", "Antonio Gramsci", "San Francesco", "dei Mille", "Giuseppe Verdi",
    "Alessandro Manzoni", "Giacomo Leopardi", "Giosuè Carducci", "John Fitzgerald Kennedy",
    "Aldo Moro", "Alcide De Gasperi", "della Libertà", "Europa", "Nazionale", "Trieste",
    "Trento", "Torino", "Milano", "Napoli", "dei Caduti sul Lavoro", "Papa Giovanni XXIII",
    "San Giovanni Bosco", "della Stazione", "delle Industrie", "dell'Artigianato",
    "Enrico Fermi", "Galileo Galilei", "Leonardo da Vinci", "Cristoforo Colombo",
    "Martiri della Libertà", "Luigi Pirandello", "Don Luigi Sturzo", "Fratelli Rosselli",
)  # fmt: skip
_FISCAL_MONTHS = "ABCDEHLMPRST"
_PEC_DOMAINS = ("pec.it", "legalmail.it", "pec.odontoiatri.it", "arubapec.it", "postecert.it")


def person(rng: random.Random) -> tuple[str, str, bool]:
    """A (first name, surname, is_female) triple."""
    female = rng.random() < 0.45
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    return first, rng.choice(SURNAMES), female


def full_name(rng: random.Random) -> str:
    """A person's name as an agent would type it: "Marco Rossi"."""
    first, last, _ = person(rng)
    return f"{first} {last}"


def city(rng: random.Random) -> City:
    """A city, big cities more likely (the table's order is by size)."""
    index = min(int(rng.expovariate(1 / 14)), len(CITIES) - 1)
    return CITIES[index]


def postal_code(rng: random.Random, where: City) -> str:
    """A five-digit CAP inside ``where``'s range."""
    return f"{where.cap_first + rng.randrange(where.cap_span):05d}"


def street(rng: random.Random) -> str:
    """A street with its house number: "Via Giuseppe Verdi 12/A"."""
    number = str(rng.randint(1, 180))
    roll = rng.random()
    if roll < 0.1:
        number += "/" + rng.choice("ABC")
    elif roll < 0.13:
        number += " bis"
    return f"{rng.choice(STREET_KINDS)} {rng.choice(STREET_NAMES)} {number}"


def phone(rng: random.Random, where: City) -> str:
    """A landline in ``where``'s district, international form: "+39 02 4851236"."""
    digits = 10 - len(where.phone_prefix)
    return f"+39 {where.phone_prefix} {rng.randrange(10 ** (digits - 1) * 2, 10**digits)}"


def mobile(rng: random.Random) -> str:
    """A mobile number, international form: "+39 347 1234567"."""
    prefix = rng.choice(("320", "328", "329", "333", "335", "338", "340", "347", "348", "349"))
    return f"+39 {prefix} {rng.randrange(1_000_000, 10_000_000)}"


def curly(text: str) -> str:
    """``text`` with its straight apostrophes curled (U+2019), as some portal fields hold."""
    return text.replace("'", "\u2019")


def iban(rng: random.Random) -> str:
    """An Italian IBAN of the right shape (27 characters; check digits not computed)."""
    return (
        f"IT{rng.randint(10, 99)}{rng.choice(string.ascii_uppercase)}"
        f"{rng.randrange(10**10):010d}{rng.randrange(10**12):012d}"
    )


def slug(text: str) -> str:
    """``text`` reduced to lower-case ASCII letters and digits, for mail boxes and hosts."""
    table = str.maketrans("àèéìòùÀÈÉÌÒÙ", "aeeiouAEEIOU")
    return "".join(
        c for c in text.translate(table).lower() if c in string.ascii_lowercase + "0123456789"
    )


def pec(rng: random.Random, owner: str) -> str:
    """A certified-mail address for ``owner`` (at most 30 characters)."""
    domain = rng.choice(_PEC_DOMAINS)
    return f"{slug(owner)[: 29 - len(domain)]}@{domain}"


def sdi_code(rng: random.Random) -> str:
    """A 7-character SDI recipient code ("KRRH6B9"); "0000000" for firms that receive by PEC."""
    if rng.random() < 0.2:
        return "0000000"
    alphabet = string.ascii_uppercase + string.digits
    return "".join(rng.choice(alphabet) for _ in range(7))


def partita_iva(rng: random.Random) -> str:
    """A valid 11-digit Partita IVA (7-digit serial, 3-digit office, check digit)."""
    body = f"{rng.randrange(10**7):07d}{rng.randint(1, 100):03d}"
    return body + str(_vat_check_digit(body))


def _vat_check_digit(body: str) -> int:
    total = 0
    for index, char in enumerate(body):
        digit = int(char)
        if index % 2 == 1:  # every second digit is doubled, Luhn style
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_partita_iva(value: str) -> bool:
    """Whether ``value`` is 11 digits whose last is the Partita IVA check digit."""
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        return False
    return _vat_check_digit(value[:10]) == int(value[10])


_ODD_DIGIT_VALUES = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21)
# The official table for odd positions: digits and A-J share values, K-Z follow.
_ODD_VALUES = dict(
    zip(
        string.digits + string.ascii_uppercase,
        _ODD_DIGIT_VALUES * 2 + (2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
        strict=True,
    )
)


def _even_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A")


def _fiscal_check_char(first15: str) -> str:
    # Positions are 1-based in the official rule: odd positions use the odd table.
    total = sum(
        _ODD_VALUES[c] if index % 2 == 0 else _even_value(c) for index, c in enumerate(first15)
    )
    return chr(ord("A") + total % 26)


def _name_letters(name: str, *, is_first_name: bool) -> str:
    letters = [c for c in slug(name).upper() if c.isalpha()]
    consonants = [c for c in letters if c not in "AEIOU"]
    vowels = [c for c in letters if c in "AEIOU"]
    if is_first_name and len(consonants) >= 4:
        return consonants[0] + consonants[2] + consonants[3]
    return ("".join(consonants + vowels) + "XXX")[:3]


def codice_fiscale(first: str, last: str, born: date, *, female: bool, where: City) -> str:
    """The official 16-character fiscal code of a person (without omocodia)."""
    day = born.day + (40 if female else 0)
    body = (
        _name_letters(last, is_first_name=False)
        + _name_letters(first, is_first_name=True)
        + f"{born.year % 100:02d}{_FISCAL_MONTHS[born.month - 1]}{day:02d}"
        + where.cadastral
    )
    return body + _fiscal_check_char(body)


def is_valid_codice_fiscale(value: str) -> bool:
    """Whether ``value`` is a well-formed personal fiscal code with the right check character.

    A company's fiscal code is its Partita IVA: use :func:`is_valid_partita_iva`.
    """
    if len(value) != 16 or not value.isascii() or not value.isalnum() or not value.isupper():
        return False
    shape = "AAAAAA99A99A999A"  # letters and digits at their fixed places
    for char, kind in zip(value, shape, strict=True):
        if kind == "9" and not char.isdigit():
            return False
        if kind == "A" and not char.isalpha():
            return False
    if value[8] not in _FISCAL_MONTHS:
        return False
    day = int(value[9:11])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        return False
    return _fiscal_check_char(value[:15]) == value[15]


def birth_date(rng: random.Random) -> date:
    """A plausible birth date of a practising dentist (born 1950-1995)."""
    return date(1950, 1, 1) + timedelta(days=rng.randrange(45 * 365))


def practice_name(rng: random.Random) -> tuple[str, bool]:
    """A customer name and whether it is a company (else a sole practitioner).

    About one name in twenty-five is long enough to wrap (to two lines) in the
    NOME column.
    """
    first, last, female = person(rng)
    title = "Dott.ssa" if female else "Dr."
    other_first, other_last, _ = person(rng)
    where = city(rng).name
    roll = rng.random()
    if roll < 0.28:
        return f"Studio Dentistico {last} {title} {first}", False
    if roll < 0.40:
        return f"{title} {first} {last}", False
    if roll < 0.52:
        return f"Laboratorio Odontotecnico {last} {first[0]}.", False
    if roll < 0.60:
        return f"Laboratorio Odontotecnico {last} & {other_last} S.n.c.", True
    if roll < 0.70:
        return f"Centro Odontoiatrico {where} S.r.l.", True
    if roll < 0.78:
        return f"Clinica Dentale {last} S.r.l.", True
    if roll < 0.84:
        return f"{last} Dental S.r.l.s.", True
    if roll < 0.975:
        return f"Studio Odontoiatrico Associato {last} e {other_last}", True
    return (
        f"Studio Associato di Odontoiatria e Protesi Dentaria {title} {first} {last}"
        f" e Dott. {other_first[0]}. {other_last}",
        True,
    )


@dataclass(frozen=True, slots=True)
class Figure:
    """A Komet bur figure: its code, its family and its shape in words."""

    code: str
    family: str
    shape: str


_FIGURE_TABLE: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Fresa in carburo di tungsteno",
        (
            ("H1", "testa tonda"),
            ("H1SEM", "testa tonda, dentatura semi-crociata"),
            ("H2", "cono rovesciato"),
            ("H7", "pera"),
            ("H21R", "cilindrica, spigolo arrotondato"),
            ("H23", "cono lungo"),
            ("H31", "cilindrica"),
            ("H33", "fessura conica"),
            ("H254E", "finitura a fiamma"),
            ("H297", "pera lunga"),
            ("H379", "oliva"),
            ("H390", "fiamma corta"),
            ("H48L", "fiamma lunga"),
            ("H50A", "punta a pallottola"),
            ("H135", "finitura a fiamma, dodici lame"),
            ("H7S", "pera, dentatura fine"),
        ),
    ),
    (
        "Fresa diamantata",
        (
            ("801", "tonda"),
            ("6801", "tonda, grana grossa"),
            ("8801", "tonda, grana fine"),
            ("806", "cono rovesciato"),
            ("837", "cilindrica piatta"),
            ("8837", "cilindrica piatta, grana fine"),
            ("6837", "cilindrica piatta, grana grossa"),
            ("850", "conica tonda"),
            ("856", "conica arrotondata"),
            ("8856", "conica arrotondata, grana fine"),
            ("6856", "conica arrotondata, grana grossa"),
            ("862", "fiamma"),
            ("8862", "fiamma, grana fine"),
            ("863", "fiamma lunga"),
            ("8863", "fiamma lunga, grana fine"),
            ("6863", "fiamma lunga, grana grossa"),
            ("879", "torpedo"),
            ("8879", "torpedo, grana fine"),
            ("881", "cilindrica tonda"),
            ("6881", "cilindrica tonda, grana grossa"),
            ("368", "ruota"),
            ("379", "oliva"),
            ("390", "pallina a fiamma"),
            ("830", "pera"),
            ("8368", "ruota, grana fine"),
            ("5856", "conica arrotondata, grana super grossa"),
            ("858", "ago"),
            ("859", "ago lungo"),
        ),
    ),
    (
        "Fresa in ceramica",
        (
            ("K1SM", "tonda, CeraBur"),
            ("K160A", "a tulipano, CeraBur"),
            ("KP6801", "tonda, PrepMarker"),
        ),
    ),
    (
        "Gommino per lucidatura",
        (("9400", "a lente"), ("94001C", "a coppetta"), ("9608", "a fiamma"), ("9440", "a punta")),
    ),
)
FIGURES: tuple[Figure, ...] = tuple(
    Figure(code, family, shape) for family, entries in _FIGURE_TABLE for code, shape in entries
)

SHANKS: dict[str, str] = {
    "104": "manipolo HP",
    "204": "contrangolo RA",
    "205": "contrangolo RA lungo",
    "313": "turbina FG corto",
    "314": "turbina FG",
    "315": "turbina FG lungo",
    "316": "turbina FG extra lungo",
}
SIZES = tuple(
    f"{tenths:03d}" for tenths in (6, 8, 9, 10, 12, 14, 16, 18, 21, 23, 25, 27, 29, 31, 35, 40)
)


def article_code(figure: Figure, shank: str, size: str) -> str:
    """A Komet article code: figure, shank and size joined by dots ("H1.314.016")."""
    return f"{figure.code}.{shank}.{size}"


def all_article_codes() -> list[tuple[Figure, str, str]]:
    """Every (figure, shank, size) combination, in a fixed order."""
    return [(f, shank, size) for f in FIGURES for shank in SHANKS for size in SIZES]


def article_description(figure: Figure, shank: str, size: str) -> str:
    """The long catalogue description of an article; it usually wraps."""
    diameter = f"{int(size) / 10:.1f}".replace(".", ",")
    return f"{figure.family}, {figure.shape}, {SHANKS[shank]}, diametro {diameter} mm"
