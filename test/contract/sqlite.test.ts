import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sql/sqlite.js';
import { tempDir } from '../helpers.js';
import { storeContract } from './store-contract.js';

let n = 0;
storeContract('sqlite', () => openSqliteStore(join(tempDir(), `store-${++n}.db`)));
