// An independent SMART Backend Services client, for fhirlink's Go tests.
// It makes an RS384 and an ES384 key pair with jose and prints their public
// JWKs as one JSON line; then it reads one JSON line from stdin,
// {"clientId", "tokenUrl", "fhirBase", "scope"}, and for each key signs a
// client assertion, asks for an access token and searches Patient with it,
// printing one JSON line of results per key.
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const keys = [];
for (const alg of ['RS384', 'ES384']) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  jwk.kid = `jose-${alg.toLowerCase()}`;
  jwk.alg = alg;
  jwk.use = 'sig';
  keys.push({ alg, jwk, privateKey });
}
process.stdout.write(JSON.stringify({ keys: keys.map((k) => k.jwk) }) + '\n');

const rl = createInterface({ input: process.stdin });
const line = await new Promise((resolve) => rl.once('line', resolve));
rl.close();
const cfg = JSON.parse(line);

for (const k of keys) {
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: k.alg, kid: k.jwk.kid, typ: 'JWT' })
    .setIssuer(cfg.clientId)
    .setSubject(cfg.clientId)
    .setAudience(cfg.tokenUrl)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('4m')
    .sign(k.privateKey);
  const tokenResp = await fetch(cfg.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: cfg.scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  const token = await tokenResp.json();
  const out = { alg: k.alg, tokenStatus: tokenResp.status, tokenCacheControl: tokenResp.headers.get('cache-control'), token };
  if (tokenResp.ok) {
    const search = await fetch(`${cfg.fhirBase}/Patient?_count=2`, {
      headers: { Authorization: `Bearer ${token.access_token}`, Accept: 'application/fhir+json' },
    });
    const bundle = await search.json();
    out.searchStatus = search.status;
    out.resourceType = bundle.resourceType;
    out.entries = (bundle.entry || []).length;
    delete out.token.access_token;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
