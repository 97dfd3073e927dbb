import { MemoryStores } from '../../src/store/memory/stores.js';
import { eventsContract } from './events-contract.js';
import { storeContract } from './store-contract.js';

storeContract('memory', async () => new MemoryStores());
eventsContract('memory', async () => new MemoryStores());
