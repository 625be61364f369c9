// jsforce, unchanged, against sf-emulator: OAuth login (refresh token, JWT bearer, password),
// describe, autoFetch query over several pages, SOSL, CRUD, collections, composite, Bulk 2.0
// query, and the refresh jsforce does by itself when a session expires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createSign, randomUUID } from 'node:crypto';
import jsforce from 'jsforce';

const BASE = process.env.SF_EMULATOR_URL;
const CLIENT_ID = process.env.SF_CLIENT_ID ?? 'sfprivacy-emulator-client';
const CLIENT_SECRET = process.env.SF_CLIENT_SECRET ?? 'sfprivacy-emulator-secret';
const REFRESH_TOKEN = process.env.SF_REFRESH_TOKEN ?? '5Aep861EMULATOR.integration.refresh.token.TEST.ONLY';
const USERNAME = process.env.SF_USERNAME ?? 'integration@sfprivacy.example';
const PASSWORD = process.env.SF_PASSWORD ?? 'emulator-password';
const JWT_KEY = process.env.SF_JWT_KEY;
const VERSION = '62.0';

const oauth2 = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, loginUrl: BASE };

// A refresh-token connection: jsforce gets its first access token itself on the first 401.
function connect() {
  return new jsforce.Connection({ oauth2, instanceUrl: BASE, refreshToken: REFRESH_TOKEN, version: VERSION });
}

const unique = () => randomUUID().replace(/-/g, '').slice(0, 10);

test('refresh token login: jsforce refreshes on its own and emits the new token', async () => {
  const conn = connect();
  let refreshed = null;
  conn.on('refresh', (token) => { refreshed = token; });
  const limits = await conn.limits();
  assert.ok(limits.DailyApiRequests.Max > 0);
  assert.ok(refreshed && refreshed.startsWith('00D'));
  assert.equal(conn.accessToken, refreshed);
});

test('JWT bearer login with the test key', async () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const header = b64({ alg: 'RS256', typ: 'JWT' });
  const claims = b64({ iss: CLIENT_ID, sub: USERNAME, aud: BASE, exp: Math.floor(Date.now() / 1000) + 180 });
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${claims}`);
  const assertion = `${header}.${claims}.${signer.sign(readFileSync(JWT_KEY)).toString('base64url')}`;
  const conn = new jsforce.Connection({ oauth2, version: VERSION });
  const userInfo = await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  assert.equal(conn.instanceUrl, BASE);
  assert.match(userInfo.organizationId, /^00D/);
  assert.match(userInfo.id, /^005/);
  const identity = await conn.identity();
  assert.equal(identity.username, USERNAME);
});

test('username-password login goes through the OAuth password grant', async () => {
  const conn = new jsforce.Connection({ oauth2, version: VERSION });
  const userInfo = await conn.login(USERNAME, PASSWORD);
  assert.match(userInfo.id, /^005/);
  const res = await conn.query('SELECT Id FROM User LIMIT 1');
  assert.equal(res.records.length, 1);
});

test('OAuth errors surface as jsforce errors', async () => {
  const conn = new jsforce.Connection({ oauth2, version: VERSION });
  await assert.rejects(conn.login(USERNAME, 'wrong-password'), (err) => {
    assert.equal(err.name, 'invalid_grant');
    assert.match(err.message, /authentication failure/);
    return true;
  });
});

test('describe global and Contact', async () => {
  const conn = connect();
  const global = await conn.describeGlobal();
  const names = new Set(global.sobjects.map((o) => o.name));
  for (const n of ['Account', 'Contact', 'Lead', 'User', 'Case']) assert.ok(names.has(n), n);
  const contact = await conn.sobject('Contact').describe();
  const email = contact.fields.find((f) => f.name === 'Email');
  assert.equal(email.type, 'email');
});

test('autoFetch query pages through nextRecordsUrl', async () => {
  const conn = connect();
  const { totalSize } = await conn.query('SELECT COUNT() FROM Contact');
  assert.ok(totalSize > 400, 'seed too small for a paged query');
  let pages = 0;
  const first = await conn.request({
    method: 'GET',
    url: `/services/data/v${VERSION}/query?q=${encodeURIComponent('SELECT Id FROM Contact')}`,
    headers: { 'Sforce-Query-Options': 'batchSize=200' },
  });
  let page = first;
  pages += 1;
  while (!page.done) {
    page = await conn.queryMore(page.nextRecordsUrl);
    pages += 1;
  }
  assert.ok(pages >= 3, `pages=${pages}`);
  const { records } = await conn.query('SELECT Id, LastName FROM Contact').run({ autoFetch: true, maxFetch: 1_000_000 });
  assert.equal(records.length, totalSize);
  assert.equal(new Set(records.map((r) => r.Id)).size, totalSize);
});

test('SOSL search finds a seeded contact', async () => {
  const conn = connect();
  const [row] = (await conn.query('SELECT Id, LastName FROM Contact WHERE Email != null LIMIT 1')).records;
  const res = await conn.search(`FIND {${row.LastName}} IN NAME FIELDS RETURNING Contact(Id, LastName)`);
  assert.ok(res.searchRecords.some((r) => r.Id === row.Id));
});

test('create, retrieve, update and destroy a contact', async () => {
  const conn = connect();
  const u = unique();
  const contact = conn.sobject('Contact');
  const created = await contact.create({ LastName: `Js${u}`, Email: `${u}@example.com` });
  assert.equal(created.success, true);
  const got = await contact.retrieve(created.id);
  assert.equal(got.LastName, `Js${u}`);
  const upd = await contact.update({ Id: created.id, FirstName: 'Grace' });
  assert.equal(upd.success, true);
  assert.equal((await contact.retrieve(created.id)).FirstName, 'Grace');
  const del = await contact.destroy(created.id);
  assert.equal(del.success, true);
  await assert.rejects(contact.retrieve(created.id), (err) => {
    assert.ok(['NOT_FOUND', 'ENTITY_IS_DELETED'].includes(err.errorCode), err.errorCode);
    return true;
  });
});

test('collections: create, update and destroy many records at once', async () => {
  const conn = connect();
  const u = unique();
  const contact = conn.sobject('Contact');
  const created = await contact.create(
    [0, 1, 2].map((i) => ({ LastName: `Coll${u}${i}`, Email: `c${i}${u}@example.com` })),
    { allOrNone: true },
  );
  assert.deepEqual(created.map((r) => r.success), [true, true, true]);
  const ids = created.map((r) => r.id);
  const updated = await contact.update(ids.map((Id) => ({ Id, Title: 'Tester' })));
  assert.ok(updated.every((r) => r.success));
  const bad = await contact.create([{ LastName: `Ok${u}` }, { Email: 'not-an-email' }], { allOrNone: true });
  assert.equal(bad[0].success, false);
  assert.equal(bad[0].errors[0].statusCode ?? bad[0].errors[0].errorCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK');
  const destroyed = await contact.destroy(ids);
  assert.ok(destroyed.every((r) => r.success));
});

test('composite with references', async () => {
  const conn = connect();
  const u = unique();
  const v = `/services/data/v${VERSION}`;
  const res = await conn.requestPost(`${v}/composite`, {
    allOrNone: true,
    compositeRequest: [
      { method: 'POST', url: `${v}/sobjects/Account`, referenceId: 'acct', body: { Name: `Acme ${u}` } },
      { method: 'POST', url: `${v}/sobjects/Contact`, referenceId: 'ct', body: { LastName: `Ref${u}`, AccountId: '@{acct.id}' } },
    ],
  });
  assert.deepEqual(res.compositeResponse.map((r) => r.httpStatusCode), [201, 201]);
});

test('Bulk 2.0 query streams every row', async () => {
  const conn = connect();
  const { totalSize } = await conn.query('SELECT COUNT() FROM Lead');
  const stream = await conn.bulk2.query('SELECT Id, LastName FROM Lead');
  const rows = [];
  await new Promise((resolve, reject) => {
    stream.on('record', (r) => rows.push(r));
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  assert.equal(rows.length, totalSize);
});

test('an expired session is refreshed by jsforce transparently', async () => {
  const conn = connect();
  await conn.query('SELECT Id FROM Contact LIMIT 1');
  const before = conn.accessToken;
  const resp = await fetch(`${BASE}/__emulator/oauth/expire-sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(resp.status, 200);
  const res = await conn.query('SELECT Id FROM Contact LIMIT 1');
  assert.equal(res.records.length, 1);
  assert.notEqual(conn.accessToken, before);
});
