#!/usr/bin/env bash
# A session at the window, end to end, with curl: the business scope, the merged form, the
# hotel's application, the window's list, the departments' decisions, 先照后证 on the licence,
# and the applicant following it with the code sent to the mobile (办件查询).
#
# Run from the repository root, with the service running beside it on the default data folder:
#   licensing serve --demo        # in another terminal (or: licensing serve --demo &)
#   bash examples/walkthrough.sh
# It needs curl and python3 (to read JSON). Each run submits the hotel once: on a store where
# it was submitted already, the submission is refused (409) and the script stops there.
set -euo pipefail
API=${API:-http://127.0.0.1:8000}
JSON='Content-Type: application/json'
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
say() { printf '\n== %s\n' "$*"; }

CLERK=$(licensing tokens mint --role clerk --sub alice --district chancheng)
ADMIN=$(licensing tokens mint --role admin --sub root)
SAMR=$(licensing tokens mint --role department --sub samr-1 --department samr)
POLICE=$(licensing tokens mint --role department --sub police-1 --department police)

say "明确告知: what the business scope points to"
curl -sf -H "$JSON" -d '{"business_scope":"住宿服务；餐饮服务；烟草制品零售；停车场服务"}' \
  "$API/api/v1/scope/permits" | field '["themes"][0]["name_zh"]'

say "The hotel's merged form, with what the scope points to in it"
curl -sfG "$API/api/v1/themes/open_hotel" --data-urlencode 'scope=住宿服务；餐饮服务' \
  | field '["scope"]["in_theme"].__len__()'

say "Submit examples/open_hotel.json at the window (受理 on the spot)"
APP=$(curl -sf -H "Authorization: Bearer $CLERK" -H "$JSON" -d @examples/open_hotel.json \
  "$API/api/v1/applications")
ID=$(echo "$APP" | field '["id"]')
USCC=$(echo "$APP" | field '["uscc"]')
echo "application $ID for $USCC"

say "The window's list: this district's applications in review"
curl -sf -H "Authorization: Bearer $CLERK" "$API/api/v1/applications?status=in_review&limit=5" \
  | field '["total"]'

say "先照后证: the fire-safety commitment is granted, not in force before the licence"
curl -sf "$API/api/v1/licences/$USCC" \
  | python3 -c "import json,sys; [print(p['name_zh'], p['status']['word'], p['reason']) for p in json.load(sys.stdin)['permits'] if p['permit_type']=='fire_safety_check']"

say "The registration office issues the business licence; the police refuse theirs"
curl -sf -H "Authorization: Bearer $SAMR" -H "$JSON" \
  -d '{"outcome":"approve","permit_number":"440604000123456"}' \
  "$API/api/v1/applications/$ID/tasks/business_licence/decision" >/dev/null
curl -sf -H "Authorization: Bearer $POLICE" -H "$JSON" \
  -d '{"outcome":"refuse","reason":"未接入旅客住宿登记信息系统","legal_basis":"《旅馆业治安管理办法》第六条"}' \
  "$API/api/v1/applications/$ID/tasks/hotel_special_trade/decision" >/dev/null
curl -sf "$API/api/v1/licences/$USCC" \
  | python3 -c "import json,sys; [print(p['name_zh'], p['status']['word']) for p in json.load(sys.stdin)['permits']]"

say "办件查询: the code goes by SMS (here to a stand-in gateway that prints it)"
python3 examples/sms_sink.py 8025 > /tmp/zzt-sms.txt &
SINK=$!
trap 'kill $SINK' EXIT
sleep 0.5
LICENSING_SMS_GATEWAY_URL=http://127.0.0.1:8025/sms licensing deliver
CODE=$(grep -o "$ID，查询码 [2-9A-HJ-NP-Z]\{8\}" /tmp/zzt-sms.txt | tail -1 | cut -d' ' -f2)
echo "the applicant received code $CODE"
curl -sf -H "$JSON" -d "{\"application_id\":\"$ID\",\"code\":\"$CODE\"}" "$API/api/v1/progress" \
  | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['status']['word']); [print(' ', t['name_zh'], t['state']['word'], t['reason'] or '') for t in d['tasks']]"

say "A wrong code is refused (five lock it for 15 minutes)"
curl -s -H "$JSON" -d "{\"application_id\":\"$ID\",\"code\":\"AAAAAAAA\"}" "$API/api/v1/progress" \
  | field '["detail"]'

say "An administrator sees every district's applications"
curl -sf -H "Authorization: Bearer $ADMIN" "$API/api/v1/applications" | field '["total"]'
