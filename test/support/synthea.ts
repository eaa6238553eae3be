import path from 'node:path';

/** Third-party Synthea bundles, read in place from the team's shared folder beside the repository (never copied in). */
export const SYNTHEA_DIR = process.env.SYNTHEA_DIR ?? path.resolve(__dirname, '../../../shared/data/synthea');
