-- wrk load for POST /webhooks/alertmanager: Alertmanager v4 webhooks over 100 repeating
-- groups (the dedup path). Start the server with SENTINEL_WEBHOOK_TOKEN=wrk-token, then:
--   wrk -t1 -c32 -d10s --latency -s server/benches/wrk/alertmanager.lua http://127.0.0.1:8000/
local bodies = {}
for g = 0, 99 do
  bodies[g] = string.format([[{"receiver":"sentinel","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighErrorRate","service":"payment-service","severity":"critical","instance":"10.0.%d.1:8080"},"annotations":{"summary":"payment-service error rate above 5%%","value":"0.137","threshold":"0.05"},"startsAt":"2025-03-14T09:26:53.114Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph","fingerprint":"%016x"}],"groupLabels":{"alertname":"HighErrorRate"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093","version":"4","groupKey":"{}:{alertname=\"HighErrorRate\", group=\"%d\"}","truncatedAlerts":0}]], g, g, g)
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/webhooks/alertmanager",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer wrk-token"}, bodies[n % 100])
end
