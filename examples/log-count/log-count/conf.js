// Settings shared by split, count and merge (the seed's conf.py). The job maps its object-store folder
// oss://…/log-count/ read-only at INPUT_DIR and uploads whatever the programs leave in OUTPUT_DIR to
// the same folder, so each step reads what the previous one wrote under the same relative name.

export const INPUT_DIR = '/home/input';
export const OUTPUT_DIR = '/home/output';

export const DATA_FILE = 'log-count-data.txt';
export const SPLIT_DIR = 'split_results';
export const COUNT_DIR = 'count_results';
export const MERGE_FILE = 'merge_result.txt';

// Must equal `nodes` of [count] in job.cfg: count instance i reads part i.
export const PARTS = 3;

export const LEVELS = ['INFO', 'WARN', 'ERROR', 'DEBUG'];
