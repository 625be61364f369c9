"""Labelled benchmark data: one CSV (header row) whose columns hold known data types, plus
hard negatives, and the ground truth in the emulator's format. Deterministic (seeded).

usage: gen_data.py ROWS OUT.csv TRUTH.json
"""
import csv, json, random, sys

rng = random.Random(20261203)
FIRST = ["James", "Mary", "Olivia", "Liam", "Helena", "Miguel", "Priya", "Hiroshi", "Sophie", "Lucas",
         "Fatima", "Jan", "Chloe", "Arjun", "Emma", "Noah", "Isabella", "Wei", "Aisha", "George"]
LAST = ["Smith", "Garcia", "Silva", "Tremblay", "Sharma", "Tanaka", "Muller", "Dubois", "Jansen",
        "Rossi", "Nguyen", "Kowalski", "Jones", "Brown", "Martin", "Lopez", "Walker", "Evans"]
CITIES = ["Springfield", "Toronto", "London", "Paris", "Madrid", "Berlin", "Amsterdam", "Austin", "Lyon", "Porto"]
COUNTRIES = ["United States", "Canada", "United Kingdom", "France", "Spain", "Germany", "Netherlands", "Brazil"]


def digits(n):
    return "".join(str(rng.randrange(10)) for _ in range(n))


def luhn_digit(payload):
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card():
    prefix, length = rng.choice([("4", 16), ("5" + str(rng.randint(1, 5)), 16), ("37", 15), ("6011", 16)])
    body = prefix + digits(length - len(prefix) - 1)
    s = body + luhn_digit(body)
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4)) if rng.random() < 0.5 else s


def iban():
    bban = digits(18)
    chk = 98 - int("".join(str(int(c, 36)) for c in bban + "DE00")) % 97
    return f"DE{chk:02d}{bban}"


def ssn():
    while True:
        a, g, s = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
        if a != 666:
            return f"{a:03d}-{g:02d}-{s:04d}"


def aba():
    while True:
        d = [int(c) for c in f"{rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 21, 22, 26, 31, 32, 61, 63, 67]):02d}" + digits(6)]
        for last in range(10):
            w = [3, 7, 1, 3, 7, 1, 3, 7, 1]
            if sum(x * y for x, y in zip(d + [last], w)) % 10 == 0:
                return "".join(map(str, d + [last]))


def phone():
    return rng.choice([
        lambda: f"+1 (415) {rng.randint(200, 999)}-{digits(4)}",
        lambda: f"(212) {rng.randint(200, 999)}-{digits(4)}",
        lambda: f"+44 20 7{digits(3)} {digits(4)}",
        lambda: f"+49 30 {digits(7)}",
        lambda: f"+33 1 {digits(2)} {digits(2)} {digits(2)} {digits(2)}",
    ])()


def name():
    n = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return n.upper() if rng.random() < 0.3 else n


def email(n):
    f, l = n.lower().split()
    return f"{f}.{l}{rng.randint(1, 99)}@{rng.choice(['example.com', 'mail.example.org', 'corp.example.net'])}"


def description(n, e, p):
    s = rng.choice(["Prefers contact in the morning.", "Met at the annual conference.",
                    "Customer reports the app crashes on start.", "Order 00012345 shipped late."])
    if rng.random() < 0.2:
        s += f" Reach me at {e}."
    if rng.random() < 0.15:
        s += f" Call back on {p}."
    return s


COLUMNS = {
    "Full_Name__c": ["person_name"], "FirstName": ["person_name"], "Email": ["email"],
    "Phone": ["phone"], "Website": ["url"], "MailingCity": ["city"], "MailingCountry": ["country"],
    "Card_Number__c": ["credit_card"], "IBAN__c": ["iban"], "SSN__c": ["us_ssn"],
    "Routing_Number__c": ["aba_routing"], "Last_Login_IP__c": ["ip_address"],
    "Device_MAC__c": ["mac_address"], "Description": ["email", "phone"],
    # Hard negatives: no personal data.
    "Created_Ms__c": [], "Order_Ref__c": [], "CaseNumber": [], "Record_Guid__c": [],
}


def row():
    n = name()
    e = email(n)
    p = phone()
    return {
        "Full_Name__c": n, "FirstName": rng.choice(FIRST), "Email": e, "Phone": p,
        "Website": f"https://www.{rng.choice(LAST).lower()}{rng.randint(1, 999)}.example.com",
        "MailingCity": rng.choice(CITIES), "MailingCountry": rng.choice(COUNTRIES),
        "Card_Number__c": card(), "IBAN__c": iban(), "SSN__c": ssn(), "Routing_Number__c": aba(),
        "Last_Login_IP__c": f"{rng.randint(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}",
        "Device_MAC__c": ":".join(f"{rng.randrange(256):02X}" for _ in range(6)),
        "Description": description(n, e, p),
        "Created_Ms__c": str(1_600_000_000_000 + rng.randrange(200_000_000_000)),
        "Order_Ref__c": rng.choice([f"ORD-2024-{digits(6)}", f"{rng.randint(0, 99999):08d}"]),
        "CaseNumber": f"{rng.randint(1, 99999):08d}",
        "Record_Guid__c": "-".join(digits(8) if i == 0 else "".join(rng.choice("0123456789abcdef") for _ in range(k))
                                   for i, k in enumerate([8, 4, 4, 4, 12])),
    }


def main():
    rows, out, truth = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(COLUMNS))
        w.writeheader()
        for _ in range(rows):
            w.writerow(row())
    with open(truth, "w") as f:
        json.dump({"objects": {"bench": {k: v for k, v in COLUMNS.items() if v}}}, f, indent=1)


if __name__ == "__main__":
    main()
