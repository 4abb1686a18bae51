"""Why the sandbox's customers write: ticket subjects and first messages around a known set of themes, in
Dutch and English, with the noise real desks have (greetings, order numbers, off-topic asides, typos).

The sandbox's tickets carry these texts, and the topic tests and benchmark build labelled corpora from them
(`labelled_corpus`): the discovered topics are scored against the theme each text was written from.

    >>> text = write(random.Random(7), "refund", "nl")
    >>> text.subject, text.message
    ('Geld terug voor bestelling 48213', 'Hallo, ik wil graag mijn geld terug voor ...')
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass

LANGUAGES = ("nl", "en")

THEMES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    # theme: {language: (subjects, message sentences)}; {n} an order number, {d} a day, {p} a product
    "late_delivery": {
        "en": (
            ("Where is my order {n}?", "Order {n} not delivered yet", "Package still not arrived",
             "Delivery is late", "Still waiting for my parcel"),
            ("I ordered the {p} on {d} and it still has not arrived.",
             "The tracking page has said 'in transit' for a week now.",
             "When will my package be delivered?", "The delivery date has passed and nothing came.",
             "Can you tell me where my parcel is?"),
        ),
        "nl": (
            ("Waar blijft mijn bestelling {n}?", "Bestelling {n} nog niet geleverd", "Pakket nog steeds niet binnen",
             "Levering te laat", "Wacht nog steeds op mijn pakket"),
            ("Ik heb op {d} de {p} besteld en hij is nog steeds niet bezorgd.",
             "De track en trace staat al een week op 'onderweg'.",
             "Wanneer wordt mijn pakket bezorgd?", "De bezorgdatum is voorbij en er is niets gekomen.",
             "Kunt u mij vertellen waar mijn pakket is?"),
        ),
    },
    "refund": {
        "en": (
            ("Refund request for order {n}", "I want my money back", "Refund not received",
             "Return and refund", "When do I get my refund?"),
            ("I returned the {p} on {d} but have not received my refund.",
             "Please refund the amount to my bank account.", "I would like my money back for this order.",
             "The return was accepted, where is the refund?", "How long does a refund take?"),
        ),
        "nl": (
            ("Geld terug voor bestelling {n}", "Ik wil mijn geld terug", "Terugbetaling niet ontvangen",
             "Retour en terugbetaling", "Wanneer krijg ik mijn geld terug?"),
            ("Ik heb de {p} op {d} teruggestuurd maar mijn geld nog niet terug ontvangen.",
             "Graag het bedrag terugstorten op mijn rekening.", "Ik wil graag mijn geld terug voor deze bestelling.",
             "Het retour is geaccepteerd, waar blijft de terugbetaling?", "Hoe lang duurt een terugbetaling?"),
        ),
    },
    "login": {
        "en": (
            ("Cannot log in", "Password reset not working", "Locked out of my account", "Login problem",
             "Forgot my password"),
            ("I cannot log in to my account since {d}.", "The password reset link in the email does not work.",
             "It says my password is wrong but I am sure it is right.", "My account is locked after three tries.",
             "I never receive the verification code to sign in."),
        ),
        "nl": (
            ("Kan niet inloggen", "Wachtwoord resetten werkt niet", "Account geblokkeerd", "Probleem met inloggen",
             "Wachtwoord vergeten"),
            ("Sinds {d} kan ik niet meer inloggen op mijn account.", "De link om mijn wachtwoord te resetten werkt niet.",
             "Er staat dat mijn wachtwoord onjuist is maar het klopt echt.",
             "Mijn account is geblokkeerd na drie pogingen.", "Ik krijg de verificatiecode om in te loggen nooit binnen."),
        ),
    },
    "invoice": {
        "en": (
            ("Wrong amount on invoice {n}", "Charged twice", "Question about my invoice", "Invoice incorrect",
             "Double payment on my card"),
            ("The invoice for order {n} shows a higher amount than I agreed.",
             "I was charged twice for the same order.", "Can you send me a corrected invoice?",
             "The VAT on my invoice is wrong.", "My credit card statement shows two payments."),
        ),
        "nl": (
            ("Verkeerd bedrag op factuur {n}", "Dubbel afgeschreven", "Vraag over mijn factuur", "Factuur klopt niet",
             "Twee keer betaald"),
            ("Op de factuur van bestelling {n} staat een hoger bedrag dan afgesproken.",
             "Het bedrag is twee keer van mijn rekening afgeschreven.", "Kunt u mij een gecorrigeerde factuur sturen?",
             "De btw op mijn factuur klopt niet.", "Ik zie twee betalingen op mijn afschrift."),
        ),
    },
    "damaged": {
        "en": (
            ("Product arrived broken", "Damaged {p}", "Item broken on arrival", "Received a damaged package",
             "The {p} is cracked"),
            ("The {p} arrived broken, the box was crushed.", "There is a crack in the {p} I received on {d}.",
             "The screen was damaged when I unpacked it.", "Parts are missing and the casing is dented.",
             "Can you send a replacement for the damaged item?"),
        ),
        "nl": (
            ("Product kapot aangekomen", "Beschadigde {p}", "Artikel kapot bij levering", "Beschadigd pakket ontvangen",
             "De {p} is gebarsten"),
            ("De {p} kwam kapot aan, de doos was ingedeukt.", "Er zit een barst in de {p} die ik op {d} ontving.",
             "Het scherm was beschadigd toen ik het uitpakte.", "Er ontbreken onderdelen en de behuizing is gedeukt.",
             "Kunt u een vervangend exemplaar sturen voor het beschadigde artikel?"),
        ),
    },
    "cancel_subscription": {
        "en": (
            ("Cancel my subscription", "Stop my membership", "How do I cancel?", "Unsubscribe from the plan",
             "End my contract"),
            ("I want to cancel my subscription per {d}.", "Please stop the monthly payments for my membership.",
             "I cannot find where to cancel my plan in the app.", "Please confirm that my contract is ended.",
             "I no longer need the service, please terminate it."),
        ),
        "nl": (
            ("Abonnement opzeggen", "Lidmaatschap stopzetten", "Hoe kan ik opzeggen?", "Afmelden voor het abonnement",
             "Contract beëindigen"),
            ("Ik wil mijn abonnement per {d} opzeggen.", "Graag de maandelijkse betalingen voor mijn lidmaatschap stoppen.",
             "Ik kan in de app niet vinden waar ik kan opzeggen.", "Graag bevestiging dat mijn contract is beëindigd.",
             "Ik heb de dienst niet meer nodig, graag stopzetten."),
        ),
    },
    "address_change": {
        "en": (
            ("Change delivery address", "Wrong address on order {n}", "New address", "Update my shipping address",
             "I moved house"),
            ("I have moved, please send order {n} to my new address.", "The shipping address on my order is wrong.",
             "Can I still change the delivery address?", "Please update my address in your system.",
             "My street name is misspelled on the label."),
        ),
        "nl": (
            ("Bezorgadres wijzigen", "Verkeerd adres op bestelling {n}", "Nieuw adres", "Verzendadres aanpassen",
             "Ik ben verhuisd"),
            ("Ik ben verhuisd, graag bestelling {n} naar mijn nieuwe adres sturen.",
             "Het verzendadres op mijn bestelling klopt niet.", "Kan ik het bezorgadres nog wijzigen?",
             "Graag mijn adres aanpassen in uw systeem.", "Mijn straatnaam is verkeerd gespeld op het label."),
        ),
    },
    "app_crash": {
        "en": (
            ("App crashes on startup", "App keeps freezing", "Error message in the app", "App not working after update",
             "Bug in the app"),
            ("Since the update of {d} the app crashes as soon as I open it.", "The app freezes on the payment screen.",
             "I get an error code when I try to open my orders in the app.",
             "Reinstalling the app did not help, it still crashes.", "The app shows a white screen and closes."),
        ),
        "nl": (
            ("App crasht bij opstarten", "App loopt steeds vast", "Foutmelding in de app", "App werkt niet na update",
             "Bug in de app"),
            ("Sinds de update van {d} crasht de app zodra ik hem open.", "De app loopt vast op het betaalscherm.",
             "Ik krijg een foutcode als ik mijn bestellingen open in de app.",
             "De app opnieuw installeren hielp niet, hij crasht nog steeds.", "De app toont een wit scherm en sluit af."),
        ),
    },
}  # fmt: skip
"""Eight themes a web shop's desk hears, each in both languages: subjects and the sentences a first message
is built from."""

OTHER = "other"
"""The label of a text written from no theme: the vague questions every desk also gets."""
VAGUE = {
    "en": (("Question", "Please call me back", "Request", "Information", "Help needed"),
           ("I have a question, can you call me?", "Please contact me about my account.",
            "I would like some information.", "Who can I talk to?")),
    "nl": (("Vraag", "Graag terugbellen", "Verzoek", "Informatie", "Hulp nodig"),
           ("Ik heb een vraag, kunt u mij bellen?", "Graag contact over mijn account.",
            "Ik wil graag wat informatie.", "Met wie kan ik hierover praten?")),
}  # fmt: skip

GREETINGS = {
    "en": ("Hi,", "Hello,", "Dear support,", "Good morning,", ""),
    "nl": ("Hallo,", "Beste,", "Goedemiddag,", "Hoi,", ""),
}
SIGN_OFFS = {
    "en": ("Thanks in advance.", "Kind regards,", "Thank you!", "Regards,", ""),
    "nl": ("Alvast bedankt.", "Met vriendelijke groet,", "Dank u wel!", "Groetjes,", ""),
}
ASIDES = {
    "en": ("I already called yesterday.", "This is the second time I write.", "I am a customer for years.",
           "Please answer quickly.", "My neighbour has the same issue."),
    "nl": ("Ik heb gisteren ook al gebeld.", "Dit is de tweede keer dat ik mail.", "Ik ben al jaren klant.",
           "Graag snel antwoord.", "Mijn buurman heeft hetzelfde."),
}  # fmt: skip
PRODUCTS = ("coffee machine", "headphones", "blender", "desk lamp", "kettle", "phone case", "vacuum cleaner")
PRODUCTEN = (
    "koffiemachine",
    "koptelefoon",
    "blender",
    "bureaulamp",
    "waterkoker",
    "telefoonhoes",
    "stofzuiger",
)
DAYS = {"en": ("Monday", "Tuesday", "the 3rd", "last week", "Friday"),
        "nl": ("maandag", "dinsdag", "de 3e", "vorige week", "vrijdag")}  # fmt: skip


@dataclass(frozen=True)
class ThemedText:
    """A subject and first customer message written from `theme` in `language`."""

    theme: str
    language: str
    subject: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.message}"


def write(rng: random.Random, theme: str, language: str, *, typo_rate: float = 0.03) -> ThemedText:
    """One ticket's subject and first message: a subject of the theme, one to three of its sentences in
    random order (none in one of ten: the subject says it all), a greeting and sign-off, sometimes an
    off-topic aside or a sentence of another theme (a second issue mentioned in passing); each word
    mistyped with probability `typo_rate` (a letter dropped, doubled, swapped with its neighbour or
    replaced). `OTHER` writes a vague question of no theme."""
    subjects, sentences = _phrases(theme, language)
    fill = _fill(rng, language)
    body = [] if rng.random() < 0.1 else rng.sample(sentences, rng.choice((1, 2, 2, 3)))
    if rng.random() < 0.3:
        body.insert(rng.randrange(len(body) + 1), rng.choice(ASIDES[language]))
    if body and rng.random() < 0.15:
        other = rng.choice([t for t in sorted(THEMES) if t != theme])
        body.append(rng.choice(THEMES[other][language][1]))
    parts = [rng.choice(GREETINGS[language]), *body, rng.choice(SIGN_OFFS[language])]
    message = " ".join(p for p in parts if p).format(**fill)
    subject = rng.choice(subjects).format(**fill)
    return ThemedText(theme, language, _typos(rng, subject, typo_rate), _typos(rng, message, typo_rate))


NOTE_OPENERS = {
    "en": ("Customer called:", "Caller:", "Call about", "Customer on the phone:", ""),
    "nl": ("Klant belde:", "Beller:", "Gesprek over", "Klant aan de lijn:", ""),
}
"""How agents start a call note (the customer's words follow, as the agent heard them)."""


def write_note(rng: random.Random, theme: str, language: str, *, typo_rate: float = 0.03) -> ThemedText:
    """An agent's note on a call about `theme`: an opener, a subject line of the theme and one of its
    sentences, typed in a hurry (each word mistyped with probability `typo_rate`). The note is the
    `message`; the `subject` is its first part."""
    subjects, sentences = _phrases(theme, language)
    fill = _fill(rng, language)
    head = " ".join(p for p in (rng.choice(NOTE_OPENERS[language]), rng.choice(subjects)) if p).format(**fill)
    note = f"{head} – {rng.choice(sentences).format(**fill)}"
    return ThemedText(theme, language, _typos(rng, head, typo_rate), _typos(rng, note, typo_rate))


def _phrases(theme: str, language: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The subjects and sentences `theme` is written from (`OTHER`: the vague ones)."""
    return VAGUE[language] if theme == OTHER else THEMES[theme][language]


def _fill(rng: random.Random, language: str) -> dict[str, str]:
    """Values for a phrase's `{n}` (an order number), `{d}` (a day) and `{p}` (a product)."""
    return {
        "n": str(rng.randrange(10_000, 99_999)),
        "d": rng.choice(DAYS[language]),
        "p": rng.choice(PRODUCTEN if language == "nl" else PRODUCTS),
    }


def labelled_corpus(
    size: int, *, seed: int = 0, dutch_share: float = 0.5, typo_rate: float = 0.03, vague_share: float = 0.08
) -> Iterator[ThemedText]:
    """`size` texts: vague ones (`OTHER`) with probability `vague_share`, else a theme uniformly at random;
    Dutch with probability `dutch_share` (seeded)."""
    rng = random.Random(seed)
    themes = sorted(THEMES)
    for _ in range(size):
        language = "nl" if rng.random() < dutch_share else "en"
        theme = OTHER if rng.random() < vague_share else rng.choice(themes)
        yield write(rng, theme, language, typo_rate=typo_rate)


def purity(found: Sequence[Hashable], truth: Sequence[str]) -> float:
    """How well topics `found` (one per text, None allowed) match the `truth` labels: the share of texts
    whose topic's most common label is their own (1.0: every topic holds one label only)."""
    groups: dict[Hashable, list[str]] = defaultdict(list)
    for topic, label in zip(found, truth, strict=True):
        groups[topic].append(label)
    return sum(Counter(g).most_common(1)[0][1] for g in groups.values()) / len(truth)


def _typos(rng: random.Random, text: str, rate: float) -> str:
    if rate <= 0:
        return text
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < rate:
            at = rng.randrange(1, len(word) - 1)
            kind = rng.randrange(4)
            if kind == 0:
                word = word[:at] + word[at + 1 :]
            elif kind == 1:
                word = word[:at] + word[at] + word[at:]
            elif kind == 2:
                word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
            else:
                word = word[:at] + rng.choice("aeioulnrst") + word[at + 1 :]
            words[i] = word
    return " ".join(words)
