#!/usr/bin/env bash
# One ECVET mobility through the HTTP API with curl: read it top to bottom, or run it.
#
#   make run                          # other terminal: migrate, deploy processes/, seed the demo, serve :5000 + worker
#   docs/walkthrough.sh               # or: B=http://127.0.0.1:5057 docs/walkthrough.sh (or ECVET_BASE_URL=...)
#
# It uses the demo that `make run` seeds (demo/seed.py): Berufskolleg Rhein (Köln, DE) sends cooks in
# training to Hotel Sol de Valencia (ES) under a MoU in force; the IHK Köln (chamber) recognises units.
# Two parts, because a mobility lives in real time:
#   1. Before the mobility: the school nominates Lukas Becker, the Learning Agreement is prepared, the
#      host agrees the assessment, and Lukas, the school and the hotel sign, in that order. His mobility
#      then waits for its start date: at midnight UTC of that day the worker sets it live.
#   2. During and after: Lea Hoffmann (16) is in València since last week, on the same process. The hotel
#      assesses her, she acknowledges, the hotel issues the Learner's Personal Transcript and releases it,
#      the school validates, the chamber recognises, the credits are in her achievements, documents are
#      checked in two languages (JSON and PDF), and the worker starts the review of her mobility.
#   3. What leaves the platform: the school issues her Europass Mobility, the hotel and the school sign it
#      off, it is downloaded in German/English and Spanish/English; her signed credentials are verified
#      offline with `ecvet credential verify` (and a forged copy fails).
#   4. The school searches for partners, and the intermediary signs both copies of the demo group's
#      Learning Agreement at once ("sign all").
# It needs curl, and jq or python3; step 15 needs the `ecvet` command (ECVET=..., PATH, or ./.venv).
# Run it once on a fresh demo (it completes the demo's open tasks): `rm var/ecvet.sqlite3 && make run`.
set -euo pipefail

B=${B:-${ECVET_BASE_URL:-http://127.0.0.1:5000}}   # the server: B=... or ECVET_BASE_URL=...
PASSWORD=${PASSWORD:-ecvet-demo-2026}      # every demo user's password (development only)
OUT=${OUT:-$(mktemp -d)}                   # where the PDFs, JSON documents and credentials go
# the command line (for `ecvet credential verify`): ECVET=..., else `ecvet` on PATH, else this checkout's venv
ECVET=${ECVET:-$(command -v ecvet || echo "$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/ecvet")}
mkdir -p "$OUT"
TODAY=$(date -u +%F)

step() { printf '\n== %s\n' "$*"; }

# --- JSON and HTTP helpers ---------------------------------------------------------------------------
# get PATH < json: the value at a simple path (.a.b[0].c; [] iterates, one line per item), with jq when it
# is installed, otherwise with python3 (JSON=python3 forces that).
JSON=${JSON:-$(command -v jq >/dev/null 2>&1 && echo jq || echo python3)}
if [ "$JSON" = jq ]; then
  get() { jq -r "$1"; }
  task_of() { jq -r --arg b "$1" '[.items[] | select(.bpmn_id == $b)][0].id // empty'; }   # < task list
  # forge < credentials download: the same download with the first credential's ECVET points raised to 60
  forge() { jq '.credentials[0].credentialSubject.hasClaim[0].specifiedBy.creditPoint[0].point = "60"'; }
else
  get() {
    python3 -c '
import json, re, sys
values = [json.load(sys.stdin)]
for name, index, every in re.findall(r"\.(\w+)|\[(\d+)\]|\[(\])", sys.argv[1]):
    if every:
        values = [item for value in values for item in value]
    else:
        values = [(value or {}).get(name) if name else value[int(index)] for value in values]
for value in values:
    print("null" if value is None else str(value).lower() if isinstance(value, bool) else
          json.dumps(value) if isinstance(value, (dict, list)) else value)' "$1"
  }
  task_of() {
    python3 -c '
import json, sys
print(next((t["id"] for t in json.load(sys.stdin)["items"] if t["bpmn_id"] == sys.argv[1]), ""))' "$1"
  }
  forge() {
    python3 -c '
import json, sys
download = json.load(sys.stdin)
download["credentials"][0]["credentialSubject"]["hasClaim"][0]["specifiedBy"]["creditPoint"][0]["point"] = "60"
print(json.dumps(download, ensure_ascii=False))'
  }
fi

# api METHOD PATH TOKEN [JSON BODY]: the body of the answer; stops the walk-through on an error status,
# printing the RFC 9457 problem document the API answered with.
api() {
  local method=$1 path=$2 token=$3 body=${4:-} answer status
  local args=(-sS -X "$method" "$B$path" -H "Authorization: Bearer $token" -w '\n%{http_code}')
  if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' -d "$body"); fi
  answer=$(curl "${args[@]}") || { echo "cannot reach $B ($method $path)" >&2; return 1; }
  status=${answer##*$'\n'}
  answer=${answer%$'\n'*}
  if [ "$status" -ge 400 ]; then
    echo "$method $path -> HTTP $status: $answer" >&2
    return 1
  fi
  printf '%s' "$answer"
}

# status METHOD PATH TOKEN: only the HTTP status (to show what someone may not see)
status() { curl -s -o /dev/null -w '%{http_code}' -X "$1" "$B$2" -H "Authorization: Bearer $3"; }

# refused CODE WHAT METHOD PATH TOKEN [JSON BODY]: prints "WHAT: HTTP CODE"; stops when the API answered
# anything else (what someone may not do or see must stay refused)
refused() {
  local code=$1 what=$2 method=$3 path=$4 token=$5 body=${6:-} got
  local args=(-s -o /dev/null -w '%{http_code}' -X "$method" "$B$path" -H "Authorization: Bearer $token")
  if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' -d "$body"); fi
  got=$(curl "${args[@]}")
  echo "   $what: HTTP $got"
  if [ "$got" != "$code" ]; then echo "expected HTTP $code for $method $path" >&2; return 1; fi
}

# complete TOKEN INSTANCE BPMN_ID JSON: the caller finds the task in their own task list and completes it
complete() {
  local token=$1 instance=$2 bpmn_id=$3 data=$4 task
  task=$(api GET "/api/tasks?instance_id=$instance" "$token" | task_of "$bpmn_id")
  if [ -z "$task" ]; then echo "no task $bpmn_id in this person's task list" >&2; return 1; fi
  api POST "/api/tasks/$task/complete" "$token" "{\"data\": $data}" >/dev/null
  echo "   done: $bpmn_id (task $task)"
}

# form TOKEN INSTANCE BPMN_ID: the task's form values (read-only fields the process filled in)
form() {
  local task
  task=$(api GET "/api/tasks?instance_id=$2" "$1" | task_of "$3")
  api GET "/api/tasks/$task" "$1" | get '.form.values'
}

# inbox TOKEN [QUERY]: the caller's ready tasks (GET /api/tasks), one "bpmn id: name" line each
inbox() {
  local tasks
  tasks=$(api GET "/api/tasks?${2:-}" "$1")
  if [ -z "$(echo "$tasks" | get '.items[].id')" ]; then echo "   (nothing)"; return; fi
  paste -d ':' <(echo "$tasks" | get '.items[].bpmn_id') <(echo "$tasks" | get '.items[].name') | sed 's/^/   /; s/:/: /'
}

# document HREF LANGS TOKEN: GET /api/documents/{kind}/{id} in two languages side by side (?lang=de,en),
# as JSON and as PDF (saved in $OUT); stops unless the JSON names both languages, carries a full SHA-256
# and a bilingual title ("Lernvereinbarung / Learning Agreement"), and the PDF is a PDF.
document() {
  local href=$1 langs=$2 token=$3 doc name title hash
  name=$(echo "$href" | sed 's|^/api/documents/||; s|/|-|g')-${langs/,/-}
  doc=$(api GET "$href?lang=$langs" "$token")
  printf '%s' "$doc" > "$OUT/$name.json"
  title=$(echo "$doc" | get '.title')
  hash=$(echo "$doc" | get '.content_hash')
  if [ "$(echo "$doc" | get '.languages[]' | paste -sd ,)" != "$langs" ] || [[ "$title" != *" / "* ]] \
     || ! [[ "$hash" =~ ^[0-9a-f]{64}$ ]]; then
    echo "$href?lang=$langs: not a bilingual document with its hash: $title, ${hash:-no hash}" >&2; return 1
  fi
  curl -sS "$B$href?lang=$langs&format=pdf" -H "Authorization: Bearer $token" -o "$OUT/$name.pdf"
  if [ "$(head -c 5 "$OUT/$name.pdf")" != "%PDF-" ]; then echo "$href?lang=$langs&format=pdf: not a PDF" >&2; return 1; fi
  printf '   %-36s %-6s %s (SHA-256 %s…), PDF %s bytes\n' "$href" "$langs" "$title" "${hash:0:12}" \
    "$(wc -c < "$OUT/$name.pdf" | tr -d ' ')"
}

curl -sf "$B/healthz" >/dev/null || { echo "no server at $B: start it with make run (or set B=...)" >&2; exit 1; }

# --- 0. Sign in: one bearer token per person --------------------------------------------------------
step "0. Sign in (POST /api/tokens)"
token() {
  local answer
  answer=$(api POST /api/tokens "" "{\"email\": \"$1\", \"password\": \"$PASSWORD\"}") \
    || { echo "cannot sign in as $1: is the server at $B running with the demo (make run)?" >&2; exit 1; }
  echo "$answer" | get '.token'
}
SCHOOL=$(token coordinator@berufskolleg.example)    # Anna Schmidt, VET coordinator of the sending school
HOTEL=$(token mentor@hotelsol.example)              # Javier Ruiz, company mentor of the hosting hotel
CHAMBER=$(token officer@ihk-koeln.example)          # Petra Wagner, IHK Köln (competent institution, DE)
LUKAS=$(token lukas.becker@learner.example)         # a learner, not nominated yet
LEA=$(token lea.hoffmann@learner.example)           # a learner, abroad since last week
echo "   tokens for the school, the hotel, the chamber, Lukas and Lea"

# --- 1. Before the mobility: Lukas ------------------------------------------------------------------
step "1. The MoU in force between the school and the hotel (GET /api/partnerships, GET /api/mous/{id})"
MOU=""
for id in $(api GET /api/partnerships "$SCHOOL" | get '.items[].mou_id'); do
  if [ "$(api GET "/api/mous/$id" "$SCHOOL" | get '.status')" = active ]; then MOU=$id; fi
done
if [ -z "$MOU" ]; then echo "no MoU in force for the school: the demo seeds one (make run)" >&2; exit 1; fi
HOTEL_ID=$(api GET "/api/mous/$MOU" "$SCHOOL" | get '.content.signing_organisations[1].organisation_id')
echo "   MoU $MOU, hosting organisation $HOTEL_ID: $(api GET "/api/mous/$MOU" "$SCHOOL" | get '.content.file_code')"

step "2. The school nominates Lukas (POST /api/mobilities): the Mobility process starts"
START=$(date -u -d '+30 days' +%F)
END=$(date -u -d '+71 days' +%F)                    # six weeks: the MoU plans 3 to 12
MOBILITY=$(api POST /api/mobilities "$SCHOOL" "{
  \"mou_id\": $MOU, \"hosting_organisation_id\": $HOTEL_ID, \"qualification_title\": \"Cook\",
  \"start_date\": \"$START\", \"end_date\": \"$END\",
  \"learner\": {\"name\": \"Lukas Becker\", \"date_of_birth\": \"2005-05-20\", \"email\": \"lukas.becker@learner.example\"}}")
M=$(echo "$MOBILITY" | get '.id')
I=$(echo "$MOBILITY" | get '.process_instance_id')
echo "   mobility $M ($(echo "$MOBILITY" | get '.status')), process instance $I," \
     "national model $(echo "$MOBILITY" | get '.national_model.model') (LA approval:" \
     "$(echo "$MOBILITY" | get '.national_model.la_approval'), recognition by" \
     "$(echo "$MOBILITY" | get '.national_model.recognition_by'))"

step "3. Each party's task list (GET /api/tasks): only the school has something to do"
echo " school:"; inbox "$SCHOOL" "instance_id=$I"
echo " hotel:";  inbox "$HOTEL" "instance_id=$I"
echo " Lukas:";  inbox "$LUKAS" "instance_id=$I"

step "4. The school prepares the Learning Agreement from the MoU's units; the hotel agrees the assessment"
echo "   units the MoU offers: $(form "$SCHOOL" "$I" prepare_la | get '.mou_units[].code' | paste -sd ' ')"
complete "$SCHOOL" "$I" prepare_la '{
  "mobility_identifier": "MOB-2026-DE02-000313", "project_code": "2026-1-DE02-KA122-VET-000117",
  "contact_persons": {"sending": {"name": "Anna Schmidt", "phone": "+49 221 555 0140"},
                      "hosting": {"name": "Javier Ruiz", "phone": "+34 96 555 0120"}},
  "units": [{"code": "U1", "learning_outcomes": ["Prepares cold starters following the recipe"],
             "learning_activities": {"location": "Hotel kitchen", "tasks": "Garde-manger station"}},
            {"code": "U3", "learning_activities": {"location": "Hotel kitchen", "tasks": "Hot line at lunch"}}],
  "assessment": {"method": "Practical tasks observed by the mentor"},
  "validation_and_recognition": {"who": "The school validates, the IHK Köln recognises",
                                 "how": "Transcript compared with this agreement", "effect": "Units exempted at home",
                                 "responsible": [{"name": "Petra Wagner", "organisation": "IHK Köln",
                                                  "function": "recognition"}]}}'
LA_HASH=$(form "$HOTEL" "$I" agree_assessment | get '.la_hash')
complete "$HOTEL" "$I" agree_assessment "{\"la_hash\": \"$LA_HASH\", \"assessment\": {
  \"assessors\": [{\"name\": \"Javier Ruiz\", \"organisation\": \"Hotel Sol de Valencia\", \"role\": \"company mentor\"}],
  \"method\": \"Observation of practical tasks, then a short interview\", \"when\": \"Last week of the mobility\",
  \"where\": \"Hotel kitchen\", \"criteria\": \"Dishes follow the recipe and the hygiene rules\",
  \"documentation\": \"One assessment sheet per unit\"}}"

step "5. Signatures in order: Lukas, the school, the hotel; each signs the hash of the text they read"
LA_HASH=$(form "$LUKAS" "$I" sign_learner | get '.la_hash')
echo "   the text to sign: SHA-256 $LA_HASH; the hotel may not sign yet: its task list is empty:"
inbox "$HOTEL" "instance_id=$I"
# Who signs is the signed-in account (name, e-mail), for the organisation the task is bound to; a form
# gives only position and place (else the profile's: PATCH /api/users/me). Another person's name: 422.
TASK=$(api GET "/api/tasks?instance_id=$I" "$LUKAS" | task_of sign_learner)
echo "   signing in someone else's name is refused: HTTP $(curl -s -o /dev/null -w '%{http_code}' -X POST \
  "$B/api/tasks/$TASK/complete" -H "Authorization: Bearer $LUKAS" -H 'Content-Type: application/json' \
  -d "{\"data\": {\"la_hash\": \"$LA_HASH\", \"decision\": \"sign\", \"signer\": {\"name\": \"Anna Schmidt\"}}}")"
complete "$LUKAS" "$I" sign_learner "{\"la_hash\": \"$LA_HASH\", \"decision\": \"sign\"}"
complete "$SCHOOL" "$I" sign_sending "{\"la_hash\": \"$LA_HASH\", \"decision\": \"sign\", \"signer\": {\"place\": \"Köln\"}}"
complete "$HOTEL" "$I" sign_hosting "{\"la_hash\": \"$LA_HASH\", \"decision\": \"sign\"}"
SEEN=$(api GET "/api/mobilities/$M" "$LUKAS")
echo "   mobility $(echo "$SEEN" | get '.status'); Learning Agreement version $(echo "$SEEN" | get '.learning_agreement.version')" \
     "$(echo "$SEEN" | get '.learning_agreement.status'), in force: $(echo "$SEEN" | get '.learning_agreement.in_force');" \
     "signatures: $(echo "$SEEN" | get '.learning_agreement.signatures[].party' | paste -sd ' ')"
echo "   Lukas's mobility now waits for $START: at midnight UTC the worker sets it live and the hotel gets its first task."
LA_ID=$(api GET "/api/mobilities/$M" "$SCHOOL" | get '.learning_agreement.id')
curl -sS "$B/api/documents/learning-agreement/$LA_ID?format=pdf" -H "Authorization: Bearer $LUKAS" \
     -o "$OUT/learning-agreement-$LA_ID.pdf"
echo "   his Learning Agreement as PDF: $OUT/learning-agreement-$LA_ID.pdf"

# --- 2. During and after the mobility: Lea, abroad since last week ---------------------------------
step "6. Lea's mobility, live since its start date (GET /api/mobilities as Lea)"
LEA_M=$(api GET /api/mobilities "$LEA" | get '.items[0].id')
LEA_MOBILITY=$(api GET "/api/mobilities/$LEA_M" "$LEA")
LI=$(echo "$LEA_MOBILITY" | get '.process_instance_id')
LEARNER=$(echo "$LEA_MOBILITY" | get '.learner_id')
echo "   mobility $LEA_M: $(echo "$LEA_MOBILITY" | get '.status') since $(echo "$LEA_MOBILITY" | get '.start_date')"
echo " hotel:"; inbox "$HOTEL" "instance_id=$LI"

step "7. The hotel assesses each unit of her agreement (assessment sheets); Lea acknowledges"
LA_HASH=$(form "$HOTEL" "$LI" checkpoint | get '.la_hash')
complete "$HOTEL" "$LI" checkpoint "{\"la_hash\": \"$LA_HASH\", \"decision\": \"assess\"}"
SHEETS=""
for unit in $(form "$HOTEL" "$LI" record_assessment | get '.la_units[].code'); do
  SHEETS="$SHEETS${SHEETS:+,}{\"unit\": \"$unit\", \"criteria\": \"Works to the recipe and the hygiene rules\",
    \"method\": \"practical_task\", \"context\": \"Lunch service\",
    \"assessor\": {\"name\": \"Javier Ruiz\", \"organisation\": \"Hotel Sol de Valencia\", \"role\": \"company mentor\"},
    \"date\": \"$TODAY\", \"result\": \"achieved\", \"grade\": \"8/10\", \"evidence\": \"Observation notes, photos of the plates\"}"
done
complete "$HOTEL" "$LI" record_assessment "{\"assessments\": [$SHEETS]}"
complete "$LEA" "$LI" acknowledge_assessment '{"agrees": true, "comment": "Thank you, it was a great kitchen"}'

step "8. The hotel issues the Learner's Personal Transcript; the school reads it only once released"
# Lea's stay ends today, before its planned last day: the hotel records the early end (and the hours of
# U1). Nothing is validated or recognised before the mobility's last day, planned or recorded (409).
complete "$HOTEL" "$LI" issue_transcript "{\"signer\": {\"place\": \"València\"}, \"period\": {\"end\": \"$TODAY\"},
  \"hours\": [{\"unit\": \"U1\", \"hours\": 30}]}"
echo "   the school asks for it before the release: HTTP $(status GET "/api/mobilities/$LEA_M/transcript" "$SCHOOL")"
complete "$HOTEL" "$LI" release_transcript '{"ready_for_recognition": true}'
TRANSCRIPT=$(api GET "/api/mobilities/$LEA_M/transcript" "$SCHOOL")
T_HASH=$(echo "$TRANSCRIPT" | get '.content_hash')
echo "   released: $(echo "$TRANSCRIPT" | get '.content.ecvet_points_achieved') ECVET points achieved, SHA-256 $T_HASH"

step "9. Validation by the school, recognition by the party the national model names"
MODEL=$(echo "$LEA_MOBILITY" | get '.national_model.model')
MERGED=$(echo "$LEA_MOBILITY" | get '.national_model.validation_recognition_merged')
RECOGNISER=$(echo "$LEA_MOBILITY" | get '.national_model.recognition_by')
echo "   national model $MODEL: recognition by $RECOGNISER, merged with validation: $MERGED"
UNITS=$(form "$SCHOOL" "$LI" "$([ "$MERGED" = true ] && echo validate_and_recognise_sending || echo validate_units)" \
        | get '.transcript_units[].unit')
list() { local out="" u; for u in $UNITS; do out="$out${out:+,}$(printf "$1" "$u")"; done; echo "[$out]"; }
SCHOOL_SIGNER='{"position": "VET coordinator", "place": "Köln"}'
if [ "$MERGED" = true ]; then
  complete "$SCHOOL" "$LI" validate_and_recognise_sending "{\"transcript_hash\": \"$T_HASH\", \"signer\": $SCHOOL_SIGNER,
    \"unit_decisions\": $(list '{"unit": "%s", "outcome": "validated"}')}"
else
  complete "$SCHOOL" "$LI" validate_units "{\"transcript_hash\": \"$T_HASH\", \"signer\": $SCHOOL_SIGNER,
    \"unit_outcomes\": $(list '{"unit": "%s", "outcome": "validated"}')}"
  if [ "$RECOGNISER" = competent_institution ]; then
    echo "   the chamber's task list:"; inbox "$CHAMBER" "instance_id=$LI"
    complete "$CHAMBER" "$LI" recognise_ci "{\"transcript_hash\": \"$T_HASH\",
      \"signer\": {\"position\": \"Training adviser\"},
      \"unit_recognition\": $(list '{"unit": "%s", "recognised": true}')}"
  else
    complete "$SCHOOL" "$LI" recognise_sending "{\"transcript_hash\": \"$T_HASH\", \"signer\": $SCHOOL_SIGNER,
      \"unit_recognition\": $(list '{"unit": "%s", "recognised": true}')}"
  fi
fi
complete "$SCHOOL" "$LI" record_implications '{"implications": [{"kind": "exempted_activity", "unit": "U1",
  "description": "Exempted from the cold kitchen module of the third year"}]}'
echo "   mobility $LEA_M: $(api GET "/api/mobilities/$LEA_M" "$LEA" | get '.status')"

step "10. The credits in Lea's achievements (GET /api/learners/{id}/achievements)"
ACHIEVEMENTS=$(api GET "/api/learners/$LEARNER/achievements" "$LEA")
paste -d ' ' <(echo "$ACHIEVEMENTS" | get '.credits[].unit') <(echo "$ACHIEVEMENTS" | get '.credits[].ecvet_points') \
  | sed 's/^/   unit /; s/$/ ECVET points/'
echo "   total: $(echo "$ACHIEVEMENTS" | get '.total_ecvet_points') ECVET points"

step "11. Her documents, each in a partner's language beside English (GET /api/documents/{kind}/{id}?lang=)"
# What the instance refers to (GET /api/process-instances/{id}/documents): the MoU, the Learning Agreement,
# the assessment sheets, the transcript, the recognition record and her certificate. The host's documents
# (sheets, transcript) in Spanish and English, the school's and the chamber's in German and English, the
# MoU and the Learning Agreement, which both sides sign, in both.
for href in $(api GET "/api/process-instances/$LI/documents" "$SCHOOL" | get '.items[].href'); do
  case $href in
    */assessment-sheet/*|*/transcript/*) document "$href" es,en "$SCHOOL" ;;
    */mou/*|*/learning-agreement/*)      document "$href" de,en "$SCHOOL"; document "$href" es,en "$SCHOOL" ;;
    *)                                   document "$href" de,en "$SCHOOL" ;;
  esac
done
KINDS=$(api GET "/api/process-instances/$LI/documents" "$SCHOOL" | get '.items[].href' | cut -d/ -f4 | sort -u | paste -sd ' ')
for kind in mou learning-agreement assessment-sheet transcript recognition-record; do
  [[ " $KINDS " == *" $kind "* ]] || { echo "no $kind among Lea's documents ($KINDS)" >&2; exit 1; }
done
echo "   saved as JSON and PDF in $OUT"

step "12. The review: the end of the mobility threw mobility_recognized; the worker starts the Review process"
for _ in $(seq 1 30); do
  REVIEW_TASK=$(api GET "/api/tasks?process_key=review" "$LEA" | task_of evaluate_learner)
  if [ -n "$REVIEW_TASK" ]; then break; fi
  sleep 1
done
if [ -z "$REVIEW_TASK" ]; then echo "no review task after 30 s: is the worker running (ecvet worker)?" >&2; exit 1; fi
echo " Lea:";    inbox "$LEA" "process_key=review"
echo " school:"; inbox "$SCHOOL" "process_key=review"
echo " hotel:";  inbox "$HOTEL" "process_key=review"

step "13. Evaluation sheets by the three parties, then the school's action plan"
REVIEW=$(api GET "/api/tasks?process_key=review" "$LEA" | get '.items[0].instance_id')
complete "$LEA" "$REVIEW" evaluate_learner '{"outcomes_appropriate": "yes", "evidence_sufficient": "yes",
  "strengths": "I ran the cold station alone by the third week"}'
complete "$HOTEL" "$REVIEW" evaluate_hosting '{"outcomes_appropriate": "partly", "evidence_sufficient": "yes",
  "outcomes_comment": "Six weeks are short for U4 in the low season"}'
complete "$SCHOOL" "$REVIEW" evaluate_sending '{"outcomes_appropriate": "yes", "evidence_sufficient": "partly",
  "evidence_comment": "The sheets name no criteria per learning outcome"}'
complete "$SCHOOL" "$REVIEW" plan_actions "{\"summary\": \"Criteria per outcome; U4 only in the high season\",
  \"items\": [{\"action\": \"Add criteria per learning outcome to the assessment sheet\", \"owner\": \"hosting\",
              \"owner_name\": \"Javier Ruiz\", \"due_date\": \"$(date -u -d '+60 days' +%F)\"},
             {\"action\": \"Plan U4 for stays between May and September\", \"owner\": \"sending\",
              \"due_date\": \"$(date -u -d '+90 days' +%F)\"}],
  \"revise_mou\": false}"
REVIEW_ID=$(api GET "/api/reviews?mobility_id=$LEA_M" "$LEA" | get '.items[0].id')
PLAN=$(api GET "/api/reviews/$REVIEW_ID" "$HOTEL" | get '.action_plan.id')
echo "   review $REVIEW_ID: $(api GET "/api/reviews/$REVIEW_ID" "$HOTEL" | get '.status');" \
     "action plan: $B/api/documents/action-plan/$PLAN"

# --- 3. What leaves the platform: the Europass Mobility and the credentials --------------------------
step "14. The Europass Mobility: the school issues it, the hotel and the school sign it off"
# Done with actions, not process tasks (POST /api/europass-mobilities, .../signatures): the text and its
# SHA-256 come from the records plus the skills the school writes in words, and never change.
EUROPASS=$(api POST /api/europass-mobilities "$SCHOOL" "{\"mobility_id\": $LEA_M,
  \"objective\": \"Work in a hotel kitchen abroad and bring units of the cook qualification home as credit\",
  \"skills\": {\"job_related\": \"Runs the cold station of a hotel kitchen alone; keeps the HACCP temperature logs\",
              \"language\": \"Kitchen Spanish: takes orders and reads recipes\"}}")
E=$(echo "$EUROPASS" | get '.id')
E_HASH=$(echo "$EUROPASS" | get '.content_hash')
echo "   Europass Mobility $E ($(echo "$EUROPASS" | get '.status')), SHA-256 $E_HASH"
refused 409 "a second one for the same mobility" POST /api/europass-mobilities "$SCHOOL" "{\"mobility_id\": $LEA_M}"
refused 404 "Lea reads it only once both signed off" GET "/api/europass-mobilities/$E" "$LEA"
refused 403 "the hotel signing off for the school" POST "/api/europass-mobilities/$E/signatures" "$HOTEL" \
  "{\"party\": \"sending\", \"content_hash\": \"$E_HASH\"}"
refused 409 "a sign-off quoting another text" POST "/api/europass-mobilities/$E/signatures" "$HOTEL" \
  "{\"party\": \"hosting\", \"content_hash\": \"$(printf '0%.0s' $(seq 64))\"}"
api POST "/api/europass-mobilities/$E/signatures" "$HOTEL" "{\"party\": \"hosting\", \"content_hash\": \"$E_HASH\",
  \"signer\": {\"position\": \"Company mentor\", \"place\": \"València\"}}" >/dev/null
echo "   signed off: hosting (Javier Ruiz)"
SIGNED=$(api POST "/api/europass-mobilities/$E/signatures" "$SCHOOL" "{\"party\": \"sending\", \"content_hash\": \"$E_HASH\",
  \"signer\": $SCHOOL_SIGNER}")
echo "   signed off: sending (Anna Schmidt); status $(echo "$SIGNED" | get '.status')," \
     "sign-offs: $(echo "$SIGNED" | get '.signatures[].party' | paste -sd ' ')"
if [ "$(echo "$SIGNED" | get '.status')" != signed ]; then echo "the Europass Mobility is not signed off by both" >&2; exit 1; fi
echo "   Lea reads it now (GET /api/europass-mobilities?learner_id=$LEARNER):" \
     "$(api GET "/api/europass-mobilities?learner_id=$LEARNER" "$LEA" | get '.[].id' | sed 's/^/Europass Mobility /')"
document "/api/documents/europass-mobility/$E" de,en "$LEA"
document "/api/documents/europass-mobility/$E" es,en "$HOTEL"

step "15. Lea's credentials: one signed European Learning Model credential per recognised unit, checked offline"
api GET "/api/learners/$LEARNER/credentials" "$LEA" > "$OUT/credentials.json"
echo "   $(get '.credentials[].id' < "$OUT/credentials.json" | paste -sd ' ') in $OUT/credentials.json"
ISSUER=$(get '.credentials[0].issuer.id' < "$OUT/credentials.json")
api GET "/api/organisations/${ISSUER##*:}/keys" "" | get '.keys[0]' > "$OUT/issuer-key.json"
echo "   the issuer's published key (GET /api/organisations/${ISSUER##*:}/keys, no sign-in): $OUT/issuer-key.json"
"$ECVET" credential verify --key "$OUT/issuer-key.json" "$OUT/credentials.json" | sed 's/^/   /'
forge < "$OUT/credentials.json" > "$OUT/credentials-forged.json"
if "$ECVET" credential verify "$OUT/credentials-forged.json" > "$OUT/forged.txt"; then
  echo "a credential with its points changed passed the check" >&2; exit 1
fi
echo "   the same download with 60 points in the first credential fails (exit 1):"
grep INVALID "$OUT/forged.txt" | sed 's/^/   /'

# --- 4. Finding partners, and signing for a group ---------------------------------------------------
step "16. Partner search (GET /api/partner-search): Spanish hosts offering a cold kitchen unit"
FOUND=$(api GET "/api/partner-search?country=ES&sector=hospitality&unit=cold" "$SCHOOL")
paste -d ':' <(echo "$FOUND" | get '.results[].name') <(echo "$FOUND" | get '.results[].organisation_id') \
  | sed 's/^/   /; s/:\([0-9]*\)$/ (organisation \1)/'
echo "$FOUND" | get '.results[].organisation_id' | grep -qx "$HOTEL_ID" \
  || { echo "the hotel is not among the Spanish hosts with a cold kitchen unit" >&2; exit 1; }
if echo "$FOUND" | grep -q '"contact_person'; then echo "partner search shows a contact person" >&2; exit 1; fi
echo "   no contact persons in the results"
refused 422 "an unknown sector code" GET "/api/partner-search?sector=spaceflight" "$SCHOOL"

step "17. A group's signatures at once: the intermediary signs both copies (POST /api/mobility-groups/{id}/complete)"
INTERMEDIARY=$(token placement@europraktikum.example)   # Markus Brandt, EuroPraktikum Rheinland
GROUP_IDS=$(for id in $(api GET /api/mobilities "$INTERMEDIARY" | get '.items[].id'); do
  api GET "/api/mobilities/$id" "$INTERMEDIARY" | get '.learning_agreement.content.group.id'
done | grep -vx null | sort -u)
SIGNED_GROUP=""
for G in $GROUP_IDS; do
  GROUP=$(api GET "/api/mobility-groups/$G" "$INTERMEDIARY")
  echo "   group $G: $(echo "$GROUP" | get '.name'); waiting for Markus: $(echo "$GROUP" | get '.my_tasks[].bpmn_id' | paste -sd ' ')"
  if ! echo "$GROUP" | get '.my_tasks[].bpmn_id' | grep -qx sign_intermediary; then continue; fi
  TASK=$(echo "$GROUP" | get '.my_tasks[0].task_ids[0]')
  LA_HASH=$(api GET "/api/tasks/$TASK" "$INTERMEDIARY" | get '.form.values.la_hash')   # one text for every copy
  api POST "/api/mobility-groups/$G/complete" "$INTERMEDIARY" "{\"bpmn_id\": \"sign_intermediary\",
    \"data\": {\"la_hash\": \"$LA_HASH\", \"decision\": \"sign\", \"signer\": {\"position\": \"Placement officer\"}}}" >/dev/null
  LEFT=$(api GET "/api/mobility-groups/$G" "$INTERMEDIARY" | get '.my_tasks[].bpmn_id' | paste -sd ' ')
  echo "   signed all: $(echo "$GROUP" | get '.my_tasks[0].task_ids[]' | wc -l | tr -d ' ') copies; waiting for Markus now:" \
       "${LEFT:-(nothing)}"
  refused 409 "signing all again (none waits)" POST "/api/mobility-groups/$G/complete" "$INTERMEDIARY" \
    "{\"bpmn_id\": \"sign_intermediary\", \"data\": {\"la_hash\": \"$LA_HASH\", \"decision\": \"sign\"}}"
  for id in $(echo "$GROUP" | get '.mobilities[].mobility_id'); do
    echo "   mobility $id: signatures $(api GET "/api/mobilities/$id" "$INTERMEDIARY" | get '.learning_agreement.signatures[].party' | paste -sd ' ')"
  done
  SIGNED_GROUP=$G
done
[ -n "$SIGNED_GROUP" ] || echo "   (no group task waits for a demo user: the demo's group was signed already)"

# --- 5. Data protection (issue 16) -------------------------------------------------------------------
step "18. Lea's data: the privacy notice, who looked at her data, and everything held about her"
NOTICE=$(curl -sS "$B/api/privacy-notice?language=de")
echo "   privacy notice (de), version $(echo "$NOTICE" | get '.version' | cut -c1-12)…: $(echo "$NOTICE" | get '.sections[].heading' | paste -sd ';' | sed 's/;/; /g')"
api POST /api/privacy-notice/acknowledgements "$LEA" \
  "{\"version\": \"$(echo "$NOTICE" | get '.version')\", \"language\": \"de\"}" >/dev/null
echo "   Lea acknowledged it: $(api GET /api/privacy-notice/acknowledgements "$LEA" | get '.[0].acknowledged_at')"
READS=$(api GET "/api/learners/$LEARNER/reads?others_only=true&limit=5" "$LEA")
echo "$READS" | get '.items[] | "   \(.at[0:16]) \(.reader_name) (\(.organisation_name // "personally")) read \(.what) \(.record_id)"'
EXPORT=$(api GET "/api/learners/$LEARNER/export" "$LEA")
echo "   her export: $(echo "$EXPORT" | get '.tables | length') tables, $(echo "$EXPORT" | get '.files | length') files," \
     "$(echo "$EXPORT" | get '.reads | length') reads of her data"
curl -sS "$B/api/learners/$LEARNER/export?format=pdf" -H "Authorization: Bearer $LEA" -o "$OUT/lea-my-data.pdf"
head -c 4 "$OUT/lea-my-data.pdf" | grep -q '%PDF' || { echo "the export PDF is not a PDF" >&2; exit 1; }
echo "   and as a PDF: $OUT/lea-my-data.pdf"
refused 404 "Lukas asks for Lea's export" GET "/api/learners/$LEARNER/export" "$LUKAS"
refused 404 "the hotel asks for Lea's export" GET "/api/learners/$LEARNER/export" "$HOTEL"

step "19. The school's retention periods and records of processing; the platform's purge, as a dry run"
SCHOOL_ORG=$(echo "$LEA_MOBILITY" | get '.sending_organisation_id')
api GET "/api/organisations/$SCHOOL_ORG/retention" "$SCHOOL" \
  | get '.kinds[] | select(.category == "evidence") | "   \(.kind): \(.keep_months) months (\(.source))"'
REGISTER=$(api GET "/api/organisations/$SCHOOL_ORG/processing-register" "$SCHOOL")
echo "$REGISTER" | get '.activities[] | "   register: \(.name)"'
refused 422 "a retention period of -1 months" PUT "/api/organisations/$SCHOOL_ORG/retention" "$SCHOOL" \
  '{"keep_months": {"transcript": -1}}'
refused 404 "the hotel reads the school's register" GET "/api/organisations/$SCHOOL_ORG/processing-register" "$HOTEL"
ADMIN=$(token admin@example.org)
DRY=$(api GET /api/retention/dry-run "$ADMIN")
echo "   dry run: $(echo "$DRY" | get '.items | length') records would go today (the demo's evidence is young)"

echo
echo "Done: Lukas's Learning Agreement is in force; Lea's mobility is recognised, credited and reviewed;"
echo "her documents, Europass Mobility and credentials are in $OUT."
