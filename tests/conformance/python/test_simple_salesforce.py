"""simple-salesforce, unchanged, against sf-emulator: login, describe, paged query, SOSL,
rows, collections, composite, Bulk 2.0 query, and session expiry."""

import csv
import io

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from conftest import BASE, API_VERSION


def test_oauth_token_has_salesforce_shape(token):
    assert token["token_type"] == "Bearer"
    assert token["instance_url"] == BASE
    assert "/id/00D" in token["id"]
    assert token["issued_at"].isdigit()
    assert "expires_in" not in token
    assert "refresh_token" not in token


def test_limits_and_limit_header(sf):
    limits = sf.limits()
    daily = limits["DailyApiRequests"]
    assert daily["Max"] >= daily["Remaining"] > 0
    assert sf.api_usage["api-usage"].used >= 1


def test_describe_global_and_object(sf):
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead", "User", "Case"} <= names
    contact = sf.Contact.describe()
    fields = {f["name"]: f for f in contact["fields"]}
    assert fields["Email"]["type"] == "email"
    assert fields["Id"]["type"] == "id"
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert any(r["childSObject"] == "Case" for r in contact["childRelationships"])


def test_query_all_follows_next_records_url_over_several_pages(sf):
    total = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
    assert total > 400, "seed too small for a paged query"
    pages = []
    first = sf.query(
        "SELECT Id, LastName, Email FROM Contact",
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    pages.append(first)
    while not pages[-1]["done"]:
        pages.append(sf.query_more(pages[-1]["nextRecordsUrl"], identifier_is_url=True))
    assert len(pages) >= 3
    assert all(len(p["records"]) <= 200 for p in pages)
    everything = sf.query_all(
        "SELECT Id, LastName FROM Contact",
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    ids = [r["Id"] for r in everything["records"]]
    assert len(ids) == total == everything["totalSize"]
    assert len(set(ids)) == total
    assert everything["records"][0]["attributes"]["type"] == "Contact"


def test_query_errors_are_salesforce_errors(sf):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT NoSuchField__x FROM Contact")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_sosl_finds_a_seeded_contact(sf):
    row = sf.query("SELECT Id, LastName FROM Contact WHERE Email != null LIMIT 1")["records"][0]
    name = row["LastName"]
    found = sf.search(f"FIND {{{name}}} IN NAME FIELDS RETURNING Contact(Id, LastName)")
    hits = found["searchRecords"]
    assert any(h["Id"] == row["Id"] for h in hits)
    assert all(h["attributes"]["type"] == "Contact" for h in hits)


def test_create_update_delete_a_contact(sf, unique):
    created = sf.Contact.create({"LastName": f"Conf{unique}", "Email": f"{unique}@example.com"})
    assert created["success"] is True and created["errors"] == []
    cid = created["id"]
    got = sf.Contact.get(cid)
    assert got["LastName"] == f"Conf{unique}"
    assert sf.Contact.update(cid, {"FirstName": "Ada"}) == 204
    assert sf.Contact.get(cid)["FirstName"] == "Ada"
    assert sf.Contact.delete(cid) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(cid)
    deleted = sf.query_all(f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{cid}'", include_deleted=True)
    assert deleted["records"][0]["IsDeleted"] is True


def test_collections_create_update_delete(sf, unique):
    records = [
        {"attributes": {"type": "Contact"}, "LastName": f"Coll{unique}{i}", "Email": f"c{i}{unique}@example.com"}
        for i in range(3)
    ]
    created = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    assert [r["success"] for r in created] == [True, True, True]
    ids = [r["id"] for r in created]
    updates = [{"attributes": {"type": "Contact"}, "id": i, "Title": "Tester"} for i in ids]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": updates})
    assert all(r["success"] for r in updated)
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids), "allOrNone": "false"})
    assert all(r["success"] for r in deleted)
    again = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids[0]})
    assert again[0]["success"] is False
    assert again[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"


def test_composite_with_references(sf, unique):
    v = f"/services/data/v{API_VERSION}"
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {"method": "POST", "url": f"{v}/sobjects/Account", "referenceId": "acct", "body": {"Name": f"Acme {unique}"}},
            {"method": "POST", "url": f"{v}/sobjects/Contact", "referenceId": "ct",
             "body": {"LastName": f"Ref{unique}", "AccountId": "@{acct.id}"}},
            {"method": "GET", "url": f"{v}/sobjects/Contact/@{{ct.id}}", "referenceId": "read"},
        ],
    }
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [201, 201, 200]
    assert out[2]["body"]["AccountId"] == out[0]["body"]["id"]


def test_bulk2_query_returns_every_row(sf):
    total = sf.query("SELECT COUNT() FROM Lead")["totalSize"]
    rows = []
    for chunk in sf.bulk2.Lead.query("SELECT Id, LastName FROM Lead", max_records=250):
        rows.extend(csv.DictReader(io.StringIO(chunk)))
    assert len(rows) == total
    assert len({r["Id"] for r in rows}) == total


def test_expired_session_raises_expired_session(sf):
    resp = requests.post(f"{BASE}/__emulator/oauth/expire-sessions", json={}, timeout=30)
    resp.raise_for_status()
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.query("SELECT Id FROM Contact LIMIT 1")
    assert err.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
