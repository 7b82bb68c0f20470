-- wrk: POST an AdmissionReview to /validate (body file from the environment).
local f = assert(io.open(os.getenv("KGUARD_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.path = "/validate?timeout=10s"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
