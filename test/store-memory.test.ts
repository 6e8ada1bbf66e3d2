import { MemoryStore } from '../src/engine/store/memory-store.js';
import { describeStoreConformance } from './store-conformance.js';
import { describeLeaseConformance } from './lease-conformance.js';

describeStoreConformance('MemoryStore', async () => ({ store: new MemoryStore() }), { keepsCommittedObjects: true });
describeLeaseConformance('MemoryStore', async () => ({ store: new MemoryStore() }));
