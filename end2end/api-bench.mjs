// Readings posted over the integration API, measured against a running demo server
// (`.ci/demo`, or the release binary with PREPAID_DEMO=true): signs in as the demo's admin,
// makes a key with the readings scope, then posts batches of 1,000 readings (every in-service
// meter of the demo, a few minutes of readings each) one after another and reports readings
// per second. Every reading is new and rated (none late), so each one is charged.
//   node end2end/api-bench.mjs [BATCHES]
// PREPAID_API_REQUESTS_PER_MINUTE on the server must allow the batches (the default does).

const BASE = process.env.PREPAID_BASE ?? 'http://127.0.0.1:3000';
const batches = Number(process.argv[2] ?? 10);

async function serverFn(name, form, cookie) {
  const response = await fetch(`${BASE}/api/${name}`, {
    method: 'POST',
    headers: { origin: BASE, accept: 'application/json', cookie: cookie ?? '', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  if (!response.ok) throw new Error(`${name}: ${response.status} ${await response.text()}`);
  return response;
}

const signIn = await serverFn('sign_in', { email: 'admin@demo.example', password: 'prepaid-demo' });
const cookie = signIn.headers.getSetCookie().find((value) => value.startsWith('prepaid_session=')).split(';')[0];
const key = await (await serverFn('create_api_key', { name: `bench ${Date.now()}`, kind: 'organisation', read: 'on', readings: 'on' }, cookie)).json();
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

const meters = [];
for (let cursor = null; ;) {
  const page = await (await fetch(`${BASE}/api/v1/meters?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { headers })).json();
  meters.push(...page.data.filter((meter) => !meter.removed_at));
  if (!page.next_cursor) break;
  cursor = page.next_cursor;
}
const registers = new Map(meters.map((meter) => [meter.serial, Number(meter.last_register ?? 0) + 1]));
const perMeter = Math.max(1, Math.floor(1000 / meters.length));
// Readings a second apart from now on: after anything the meters sent, never in the future
// by more than the five minutes the API allows.
let at = Date.now();
let total = 0;
let spent = 0;
for (let batch = 0; batch < batches; batch += 1) {
  const readings = [];
  for (let step = 0; step < perMeter; step += 1) {
    at += 1000;
    for (const meter of meters) {
      const register = registers.get(meter.serial) + 0.01;
      registers.set(meter.serial, register);
      readings.push({ serial: meter.serial, taken_at: new Date(at).toISOString(), register: register.toFixed(3) });
    }
  }
  const started = performance.now();
  const response = await fetch(`${BASE}/api/v1/readings`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': `bench-${Date.now()}-${batch}` },
    body: JSON.stringify({ readings }),
  });
  const took = performance.now() - started;
  if (!response.ok) throw new Error(`batch ${batch}: ${response.status} ${await response.text()}`);
  total += readings.length;
  spent += took;
  console.log(`batch ${batch + 1}: ${readings.length} readings in ${took.toFixed(0)} ms`);
}
console.log(`${total} readings in ${(spent / 1000).toFixed(2)} s: ${Math.round(total / (spent / 1000))} readings/s over HTTP (${meters.length} meters)`);
