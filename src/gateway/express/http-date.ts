// The Date header value, formatted once per second rather than per reply.

export class HttpDate {
  private second = -1;
  private text = '';

  now(): string {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.text = new Date(second * 1000).toUTCString();
    }
    return this.text;
  }
}
