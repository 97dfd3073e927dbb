import { MemoryStores } from '../../src/store/memory/stores.js';
import { storeContract } from './store-contract.js';

storeContract('memory', async () => new MemoryStores());
