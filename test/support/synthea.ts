import fs from 'node:fs';
import path from 'node:path';

/** The full set of third-party Synthea bundles in the team's shared folder beside the repository, when there is one. */
const SHARED_SYNTHEA_DIR = path.resolve(__dirname, '../../../shared/data/synthea');
/** The small licensed sample shipped in the repository (test/data/synthea, see its NOTICE): a fresh clone has only this. */
export const SAMPLE_SYNTHEA_DIR = path.resolve(__dirname, '../data/synthea');

/** Synthea bundles for the ingestion tests: $SYNTHEA_DIR, else the shared full set when present, else the shipped sample. */
export const SYNTHEA_DIR =
  process.env.SYNTHEA_DIR ?? (fs.existsSync(path.join(SHARED_SYNTHEA_DIR, 'manifest.json')) ? SHARED_SYNTHEA_DIR : SAMPLE_SYNTHEA_DIR);
