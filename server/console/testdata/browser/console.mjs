// Drives the fhirlink web console in Debian's Chromium (headless), as a
// practice and then as an integrator would, for the Go test
// TestConsoleInChromium. The test gives, as one JSON argument: base (the
// server's URL), siteId and secret (the practice's site credential),
// revoke (the id of the integrator to grant writes, revoke them, then
// revoke), revokeKey (its API key) and write (the passthrough write it
// tries after each, as URL and JSON body), key (another integrator's API
// key), userDataDir (a new empty directory) and shots (a directory for
// screenshots, or empty for none). It prints one JSON object: what the
// pages showed, the write's status after the grant and after the
// revocation, and the new key the rotation showed.
import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.argv[2]);
const out = {};
const context = await chromium.launchPersistentContext(cfg.userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 60000,
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(20000);
  const shot = async (name) => {
    if (cfg.shots) await page.screenshot({ path: `${cfg.shots}/${name}.png`, fullPage: true });
  };
  // Every click that submits a form waits for the page it leads to.
  const submit = async (selector, url) => {
    await Promise.all([page.waitForURL(url), page.click(selector)]);
  };

  // The practice signs in with its site credential and revokes an integrator.
  await page.goto(cfg.base + '/console/');
  await page.fill('#practice-sign-in input[name=siteId]', cfg.siteId);
  await page.fill('#practice-sign-in input[name=secret]', cfg.secret);
  await submit('#practice-sign-in button', '**/console/practice');
  out.who = await page.textContent('#who');
  out.availability = await page.textContent('#availability');
  out.listedBefore = await page.locator(`tr[data-integrator="${cfg.revoke}"]`).count();
  await shot('practice');

  // It grants that integrator writes, whose write then succeeds, and
  // revokes them, after which it is refused.
  const row = `tr[data-integrator="${cfg.revoke}"]`;
  const write = async () => (await fetch(cfg.write.url, {
    method: 'POST', body: JSON.stringify(cfg.write.body),
    headers: { 'Content-Type': 'application/json', 'Ocp-Apim-Subscription-Key': cfg.revokeKey },
  })).status;
  await submit(`${row} form[action="/console/practice/writes"] button`, '**/console/practice?done=writes-on');
  out.grantNotice = await page.textContent('.notice');
  out.writesGranted = (await page.textContent(`${row} .writes`)).trim();
  out.writeAfterGrant = await write();
  await shot('writes-granted');
  await submit(`${row} form[action="/console/practice/writes"] button`, '**/console/practice?done=writes-off');
  out.revokeNotice = await page.textContent('.notice');
  out.writesRevoked = (await page.textContent(`${row} .writes`)).trim();
  out.writeAfterRevoke = await write();

  await submit(`tr[data-integrator="${cfg.revoke}"] button.danger`, '**/console/practice?done=revoked');
  out.notice = await page.textContent('.notice');
  out.listedAfter = await page.locator(`tr[data-integrator="${cfg.revoke}"]`).count();
  await shot('revoked');
  await submit('#sign-out', '**/console/sign-in');

  // The integrator signs in with its key and rotates its primary key.
  await page.fill('#integrator-sign-in input[name=key]', cfg.key);
  await submit('#integrator-sign-in button', '**/console/integrator');
  out.sites = await page.locator('#sites tbody tr').count();
  await submit('#rotate-primary button', '**/console/integrator/rotate-key');
  out.newKey = (await page.textContent('#new-key-value')).trim();
  await shot('rotated');
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
