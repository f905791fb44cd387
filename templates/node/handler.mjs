// Your function. faasq calls it once per request with { method, path, query, headers, body }
// (body is a Buffer) and sends back what it returns: { status, headers, body }.
export default async function handler(req) {
  const name = req.body.length > 0 ? req.body.toString('utf8') : 'world';
  return {
    status: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: `Hello, ${name}!\n`,
  };
}
