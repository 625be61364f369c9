"""Microsoft Presidio's analyzer on the same CSV: its predefined pattern recognizers on a
blank spaCy pipeline (no model can be downloaded here, so its NER recognizer finds nothing
and is left out). Each value is analysed on its own; a column is labelled with an entity when
at least 10% of its non-empty values contain it with score >= 0.4. Prints a report in
`sfprivacy classify`'s shape plus timing, so `sfprivacy score` can score it.

usage: presidio_classify.py FILE.csv > report.json
"""
import csv, json, sys, time

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine

MAP = {
    "EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "PERSON": "person_name",
    "CREDIT_CARD": "credit_card", "IBAN_CODE": "iban", "US_SSN": "us_ssn", "US_ITIN": "us_itin",
    "ABA_ROUTING_NUMBER": "aba_routing", "UK_NINO": "uk_nino", "IN_AADHAAR": "in_aadhaar",
    "ES_NIF": "es_nif", "ES_NIE": "es_nif", "IP_ADDRESS": "ip_address", "URL": "url",
    "US_PASSPORT": "passport_number", "US_DRIVER_LICENSE": "drivers_license",
    "LOCATION": "city", "NRP": None, "DATE_TIME": None, "CRYPTO": None,
}


class BlankSpacy(SpacyNlpEngine):
    def load(self):
        self.nlp = {"en": spacy.blank("en")}


def main():
    engine = BlankSpacy()
    engine.load()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=engine)
    for r in list(registry.recognizers):
        if type(r).__name__ in ("SpacyRecognizer",):
            registry.remove_recognizer(r.name)
    analyzer = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])

    with open(sys.argv[1], newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    counts = [dict() for _ in header]
    non_empty = [0] * len(header)
    nbytes = values = 0
    start = time.perf_counter()
    for row in rows:
        for i, v in enumerate(row):
            if not v.strip():
                continue
            non_empty[i] += 1
            values += 1
            nbytes += len(v.encode())
            found = set()
            for res in analyzer.analyze(text=v, language="en"):
                if res.score >= 0.4 and MAP.get(res.entity_type):
                    found.add(MAP[res.entity_type])
            for t in found:
                counts[i][t] = counts[i].get(t, 0) + 1
    elapsed = time.perf_counter() - start
    fields = []
    for i, name in enumerate(header):
        n = max(non_empty[i], 1)
        types = [{"data_type": t, "hits": h, "prevalence": h / n}
                 for t, h in sorted(counts[i].items()) if h / n >= 0.10]
        fields.append({"field": name, "non_empty": non_empty[i], "data_types": types})
    json.dump({"records": len(rows), "fields": fields,
               "timing": {"seconds": elapsed, "values": values, "bytes": nbytes,
                          "values_per_s": values / elapsed, "mb_per_s": nbytes / elapsed / 1e6}},
              sys.stdout, indent=1)


if __name__ == "__main__":
    main()
