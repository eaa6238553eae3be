import { warmValidation } from '../../src/validation';
import { findValueSet } from '../../src/validation/terminology';
test('t', () => {
  let t = Date.now();
  if (process.env.PRE) { findValueSet('x'); console.log('registry ms', Date.now() - t); }
  t = Date.now(); warmValidation(); console.log('warm ms', Date.now() - t);
});
