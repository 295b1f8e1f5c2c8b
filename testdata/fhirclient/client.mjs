// Drives fhir-kit-client, a FHIR client integrators use, against a fhirlink
// FHIR base, so the tests prove compatibility with a client we did not write.
//
// usage: node client.mjs BASE KEY QUERY READ_ID
// prints one JSON line: {"pages":n,"ids":[...],"read":{...}}
import { Client } from 'fhir-kit-client';

const [base, key, query, readId] = process.argv.slice(2);
const client = new Client({ baseUrl: base, customHeaders: { 'Ocp-Apim-Subscription-Key': key } });

const ids = [];
let pages = 0;
let bundle = await client.search({ resourceType: 'Patient', searchParams: Object.fromEntries(new URLSearchParams(query)) });
for (;;) {
  pages++;
  for (const e of bundle.entry ?? []) {
    if (e.search?.mode === 'match') ids.push(e.resource.id);
  }
  // nextPage follows link[next] as the server wrote it.
  if (!(bundle.link ?? []).some((l) => l.relation === 'next') || pages > 1000) break;
  bundle = await client.nextPage({ bundle });
}
const read = await client.read({ resourceType: 'Patient', id: readId });
const meta = await client.capabilityStatement();
console.log(JSON.stringify({ pages, ids, read: { resourceType: read.resourceType, id: read.id }, fhirVersion: meta.fhirVersion }));
