import { generateDemoCountry, toTransactionBundles } from '../../src/demo/demo-country';
test('peek', () => {
  const t = Date.now();
  const c = generateDemoCountry();
  const b = toTransactionBundles(c.entries, 250);
  console.log(Date.now() - t, 'ms', c.counts, c.facilitiesByType, c.examples, b.length);
  const show = (type: string, n = 1) => c.entries.filter((e) => e.resourceType === type).slice(0, n).forEach((e) => console.log(JSON.stringify(e.resource)));
  show('Location', 1); show('Organization', 2); show('HealthcareService'); show('Practitioner', 2); show('PractitionerRole', 2); show('Patient', 4);
  console.log(JSON.stringify(b[5].entry[3]));
});
