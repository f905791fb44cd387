// A node:test reporter that writes one JSON line per skipped test ({ name, file, reason }), so
// scripts/run-tests.mjs can say at the end how many tests were skipped and why.
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' || event.data.skip === undefined) continue;
    const reason = typeof event.data.skip === 'string' ? event.data.skip : 'skipped without a reason';
    yield `${JSON.stringify({ name: event.data.name, file: event.data.file, reason })}\n`;
  }
}
