// node-vault 0.12.0 (npm) against a real, fresh Sealbox server, using
// node-vault's own methods. Started by tests/compat/test_node_vault.py, which
// passes the server, the CA (NODE_EXTRA_CA_CERTS), PostgreSQL and the
// Kubernetes TokenReview stand-in through the environment.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const env = process.env;
const vault = require('node-vault')({ apiVersion: 'v1', endpoint: env.SEALBOX_ADDR });
let rootToken;

async function rejectsWithStatus(promise, status) {
  await assert.rejects(promise, (err) => {
    assert.strictEqual(err.response && err.response.statusCode, status, String(err));
    return true;
  });
}

test('init, unseal, status, health', async () => {
  assert.deepStrictEqual(await vault.initialized(), { initialized: false });
  const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
  assert.strictEqual(init.keys.length, 3);
  rootToken = init.root_token;
  vault.token = rootToken;
  await assert.rejects(vault.init({ secret_shares: 1, secret_threshold: 1 }), /Vault is already initialized/);
  let st = await vault.unseal({ secret_shares: 1, key: init.keys[0] });
  assert.strictEqual(st.sealed, true);
  assert.strictEqual(st.progress, 1);
  st = await vault.unseal({ secret_shares: 1, key: init.keys_base64[2] });
  assert.strictEqual(st.sealed, false);
  st = await vault.status();
  assert.strictEqual(st.sealed, false);
  assert.strictEqual(st.t, 2);
  assert.strictEqual(st.n, 3);
  const health = await vault.health();
  assert.strictEqual(health.initialized, true);
  assert.strictEqual(health.sealed, false);
  const leader = await vault.leader();
  assert.strictEqual(leader.ha_enabled, false);
});

test('mounts: mount, mounts, unmount', async () => {
  await vault.mount({ mount_point: 'kv1', type: 'kv', options: { version: '1' } });
  await vault.mount({ mount_point: 'secret', type: 'kv', options: { version: '2' } });
  await vault.mount({ mount_point: 'scratch', type: 'kv' });
  const mounts = await vault.mounts();
  assert.ok(mounts['kv1/'] && mounts.data['secret/'], JSON.stringify(Object.keys(mounts)));
  assert.strictEqual(mounts['secret/'].options.version, '2');
  await vault.unmount({ mount_point: 'scratch' });
  assert.ok(!(await vault.mounts())['scratch/']);
});

test('KV v1 write, read, list, delete', async () => {
  await vault.write('kv1/app/db', { password: 's3cret', nested: { n: 1 } });
  await vault.write('kv1/app/api', { key: 'k' });
  const got = await vault.read('kv1/app/db');
  assert.deepStrictEqual(got.data, { password: 's3cret', nested: { n: 1 } });
  const list = await vault.list('kv1/app');
  assert.deepStrictEqual(list.data.keys.sort(), ['api', 'db']);
  await vault.delete('kv1/app/db');
  await rejectsWithStatus(vault.read('kv1/app/db'), 404);
});

test('KV v2 write, read, list, delete, destroy', async () => {
  const w1 = await vault.write('secret/data/app', { data: { v: 'one' } });
  assert.strictEqual(w1.data.version, 1);
  await vault.write('secret/data/app', { data: { v: 'two' }, options: { cas: 1 } });
  await rejectsWithStatus(vault.write('secret/data/app', { data: { v: 'x' }, options: { cas: 1 } }), 400);
  const got = await vault.read('secret/data/app');
  assert.deepStrictEqual(got.data.data, { v: 'two' });
  assert.strictEqual(got.data.metadata.version, 2);
  const list = await vault.list('secret/metadata/');
  assert.deepStrictEqual(list.data.keys, ['app']);
  await vault.destroySecretVersions({ mount_point: 'secret', path: 'app', versions: [1] });
  const meta = await vault.read('secret/metadata/app');
  assert.strictEqual(meta.data.versions['1'].destroyed, true);
  await vault.delete('secret/data/app');
  await rejectsWithStatus(vault.read('secret/data/app'), 404);
});

test('tokens: create, lookup, renew, revoke', async () => {
  const created = await vault.tokenCreate({ policies: ['default'], ttl: '1h', renewable: true });
  const child = created.auth.client_token;
  assert.strictEqual(vault.token, child);  // tokenSource: node-vault switches to the new token
  vault.token = rootToken;
  assert.ok(child.startsWith('hvs.'));
  const looked = await vault.tokenLookup({ token: child });
  assert.strictEqual(looked.data.ttl > 3500, true);
  const childVault = require('node-vault')({ apiVersion: 'v1', endpoint: env.SEALBOX_ADDR, token: child });
  const self = await childVault.tokenLookupSelf();
  assert.strictEqual(self.data.id, child);
  const renewed = await childVault.tokenRenewSelf({ increment: '30m' });
  assert.strictEqual(renewed.auth.lease_duration, 1800);
  await vault.tokenRevoke({ token: child });
  await rejectsWithStatus(childVault.tokenLookupSelf(), 403);
});

test('policies through the legacy sys/policy API', async () => {
  await vault.addPolicy({ name: 'app-read', rules: 'path "kv1/app/*" { capabilities = ["read"] }' });
  const pol = await vault.getPolicy({ name: 'app-read' });
  assert.match(pol.rules, /kv1\/app/);
  const all = await vault.policies();
  assert.ok(all.policies.includes('app-read') && all.policies.includes('root'));
  const reader = await vault.tokenCreate({ policies: ['app-read'] });
  vault.token = rootToken;
  const rv = require('node-vault')({ apiVersion: 'v1', endpoint: env.SEALBOX_ADDR, token: reader.auth.client_token });
  assert.deepStrictEqual((await rv.read('kv1/app/api')).data, { key: 'k' });
  await rejectsWithStatus(rv.write('kv1/app/api', { key: 'no' }), 403);
  await vault.removePolicy({ name: 'app-read' });
  assert.ok(!(await vault.policies()).policies.includes('app-read'));
});

test('audit devices: enable, list, disable', async () => {
  const file = path.join(env.SEALBOX_WORKDIR, 'node-audit.log');
  await vault.enableAudit({ name: 'nodefile', type: 'file', options: { file_path: file } });
  const audits = await vault.audits();
  assert.strictEqual(audits['nodefile/'].type, 'file');
  await vault.read('kv1/app/api');
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  assert.ok(lines.length >= 2);
  assert.ok(!fs.readFileSync(file, 'utf8').includes(rootToken));
  await vault.disableAudit({ name: 'nodefile' });
  assert.ok(!(await vault.audits())['nodefile/']);
});

test('database credentials and leases', async () => {
  await vault.mount({ mount_point: 'database', type: 'database' });
  await vault.write('database/config/pg', {
    plugin_name: 'postgresql-database-plugin', connection_url: env.SEALBOX_PG_URL,
    username: 'sealbox', password: 'rootpw', allowed_roles: ['ro'],
  });
  await vault.write('database/roles/ro', {
    db_name: 'pg', default_ttl: '1h',
    creation_statements: 'CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\' VALID UNTIL \'{{expiration}}\';',
  });
  const creds = await vault.generateDatabaseCredentials({ databasePath: 'database', name: 'ro' });
  assert.ok(creds.data.username && creds.data.password);
  assert.ok(creds.lease_id.startsWith('database/creds/ro/'));
  const renewed = await vault.renew({ lease_id: creds.lease_id, increment: 600 });
  assert.strictEqual(renewed.lease_duration, 600);
  await vault.revoke({ lease_id: creds.lease_id });
  await rejectsWithStatus(vault.write('sys/leases/lookup', { lease_id: creds.lease_id }), 400);
  fs.writeFileSync(path.join(env.SEALBOX_WORKDIR, 'node-db-user'), creds.data.username);
});

test('kubernetesLogin', async () => {
  await vault.enableAuth({ mount_point: 'kubernetes', type: 'kubernetes' });
  await vault.write('auth/kubernetes/config', {
    kubernetes_host: env.SEALBOX_KUBE_URL, kubernetes_ca_cert: fs.readFileSync(env.SEALBOX_KUBE_CA, 'utf8'),
    token_reviewer_jwt: env.SEALBOX_KUBE_REVIEWER, disable_local_ca_jwt: true,
  });
  // node-vault 0.12.0's addKubernetesRole has a schema without `properties`
  // and throws before sending anything (an upstream bug): write the role.
  await vault.write('auth/kubernetes/role/app', {
    bound_service_account_names: 'app', bound_service_account_namespaces: 'prod', token_policies: 'default',
  });
  const role = await vault.getKubernetesRole({ mount_point: 'kubernetes', role_name: 'app' });
  assert.deepStrictEqual(role.data.bound_service_account_names, ['app']);
  const fresh = require('node-vault')({ apiVersion: 'v1', endpoint: env.SEALBOX_ADDR });
  // mount_point given: 0.12.0 renders its default (client.kubernetesPath)
  // from the call's arguments only, so without it the path is /auth//login.
  const login = await fresh.kubernetesLogin({ mount_point: 'kubernetes', role: 'app', jwt: env.SEALBOX_KUBE_JWT });
  assert.ok(login.auth.client_token);
  assert.strictEqual(fresh.token, login.auth.client_token);  // tokenSource: the client keeps it
  assert.strictEqual(login.auth.metadata.service_account_name, 'app');
  const bad = require('node-vault')({ apiVersion: 'v1', endpoint: env.SEALBOX_ADDR });
  await rejectsWithStatus(bad.kubernetesLogin({ mount_point: 'kubernetes', role: 'app', jwt: 'not.a.jwt' }), 403);
});
