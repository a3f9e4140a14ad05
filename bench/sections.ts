import type { Section } from './report.ts';

/** Every section of `npm run bench`, in the order issue 6 lists them. */
export const sections: Section[] = [
  {
    name: 'retrieval-quality',
    title: '1. Retrieval quality',
    load: async () => (await import('./retrieval-quality.ts')).measureRetrievalQuality,
  },
  {
    name: 'token-cost',
    title: '2. Token cost per answer',
    load: async () => (await import('./token-cost.ts')).measureTokenCost,
  },
  {
    name: 'retrieval-speed',
    title: '3. Retrieval speed and scale',
    load: async () => (await import('./retrieval-speed.ts')).measureRetrievalSpeed,
  },
  {
    name: 'bot-overhead',
    title: '4. Bot overhead',
    load: async () => (await import('./bot-overhead.ts')).measureBotOverhead,
  },
  {
    name: 'throughput',
    title: '5. Throughput',
    load: async () => (await import('./throughput.ts')).measureThroughput,
  },
  {
    name: 'context-strategy',
    title: '6. Context strategy and follow-ups',
    load: async () => (await import('./context-strategy.ts')).measureContextStrategy,
  },
];
