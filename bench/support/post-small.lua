-- wrk script: POST a short text body.
wrk.method = "POST"
wrk.body = "hello faasq"
wrk.headers["Content-Type"] = "text/plain"
