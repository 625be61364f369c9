"""Fixtures: log in to sf-emulator the way a simple-salesforce user does with OAuth.

simple-salesforce has no refresh-token flow of its own, so its users run the OAuth token
request themselves and hand `instance_url` + `access_token` to `Salesforce(...)`. The emulator
serves HTTPS (simple-salesforce forces https) with a test CA given in REQUESTS_CA_BUNDLE.
"""

import os
import uuid

import pytest
import requests
from simple_salesforce import Salesforce

BASE = os.environ["SF_EMULATOR_URL"]
CLIENT_ID = os.environ.get("SF_CLIENT_ID", "sfprivacy-emulator-client")
CLIENT_SECRET = os.environ.get("SF_CLIENT_SECRET", "sfprivacy-emulator-secret")
REFRESH_TOKEN = os.environ.get(
    "SF_REFRESH_TOKEN", "5Aep861EMULATOR.integration.refresh.token.TEST.ONLY"
)
API_VERSION = "62.0"


def oauth_refresh():
    resp = requests.post(
        f"{BASE}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        },
        timeout=30,
    )
    resp.raise_for_status()
    return resp.json()


@pytest.fixture
def token():
    return oauth_refresh()


@pytest.fixture
def sf(token):
    return Salesforce(
        instance_url=token["instance_url"],
        session_id=token["access_token"],
        version=API_VERSION,
    )


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:10]
