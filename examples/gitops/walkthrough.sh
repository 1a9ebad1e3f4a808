#!/usr/bin/env bash
# The GitOps workflow of planet-profiles, end to end, as a platform team and a service would run it:
#
#   1. create the team's profile repository from the copier template (alice's age key, from `keygen`),
#   2. add two profiles with copier: a public auth-code client and a client-credentials client with a secret,
#   3. commit them through the pre-commit hooks (`repo: local`: the installed planet-profiles, no network),
#   4. check them in a fresh clone that holds no key (what CI does),
#   5. load both from the clone through PL_AUTH_PROFILE_PATH and make authenticated calls,
#   6. add a member (bob), `planet-profiles rekey`, and load with bob's key.
#
# Needs `pip install 'planet-profiles[all]' pre-commit` on PATH (`make install` gives all of it in .venv).
# Settings (environment):
#   WORK              an empty scratch directory
#   AUTH_SERVER       the OIDC server; PUBLIC_CLIENT_ID, CC_CLIENT_ID, CC_CLIENT_SECRET: clients there
#   API_URL           a protected API that accepts the tokens
#   BROWSER           how the auth-code login opens the browser (a person's desktop sets it already)
set -euo pipefail
: "${WORK:?}" "${AUTH_SERVER:?}" "${PUBLIC_CLIENT_ID:?}"
: "${CC_CLIENT_ID:?}" "${CC_CLIENT_SECRET:?}" "${API_URL:?}"
unset SOPS_AGE_KEY_FILE SOPS_AGE_KEY PL_AUTH_PROFILE PL_AUTH_PROFILE_PATH
API_ORIGIN=$(python -c 'import os, urllib.parse as u; p = u.urlsplit(os.environ["API_URL"]); print(f"{p.scheme}://{p.netloc}")')
say() { printf '\n== %s\n' "$*"; }
call_api() {  # call_api PROFILE: GET $API_URL with the profile's token, print the answer
  python - "$1" <<'PY'
import os, sys, requests, planet_auth_utils
ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(auth_profile_opt=sys.argv[1])
answer = requests.get(os.environ["API_URL"], auth=ctx.request_authenticator(), timeout=30)
print(f"{sys.argv[1]}: HTTP {answer.status_code} {answer.text.strip()}")
sys.exit(answer.status_code != 200)
PY
}
cd "$WORK"
umask 077
ALICE=$(planet-profiles keygen -o alice.txt)
BOB=$(planet-profiles keygen -o bob.txt)
TEMPLATES=$(planet-profiles templates)   # where the copier templates are installed (copier.yml, templates/)

say "1. the team repository, from the copier template"
copier copy --quiet --defaults "$TEMPLATES/templates/profile-repo" team \
  --data team_name=payments --data "age_recipients=[$ALICE]"
cd team
git init --quiet
pre-commit install
ls -A

say "2. two profiles, with copier (the secret goes from memory to sops: never on disk in clear)"
copier copy --quiet --trust --defaults "$TEMPLATES/templates/profile" profiles \
  --data profile_name=web --data client_type=oidc_auth_code --data "auth_server=$AUTH_SERVER" \
  --data "client_id=$PUBLIC_CLIENT_ID" --data local_redirect_uri=http://127.0.0.1/callback \
  --data 'scopes=[openid, offline_access, api.read]' --data "allowed_api_hosts=[$API_ORIGIN]"
copier copy --quiet --trust --defaults "$TEMPLATES/templates/profile" profiles \
  --data profile_name=billing --data client_type=oidc_client_credentials_secret \
  --data "auth_server=$AUTH_SERVER" --data "client_id=$CC_CLIENT_ID" --data "client_secret=$CC_CLIENT_SECRET" \
  --data 'scopes=[api.read]' --data "allowed_api_hosts=[$API_ORIGIN]"
find profiles -type f | sort
grep -h '"client_secret"' profiles/billing/auth_client.sops.json

say "3. commit through the installed hooks"
git add -A
git commit --quiet -m "payments: web and billing profiles"
git log --oneline

say "4. a fresh clone without any key: the hooks pass (CI)"
cd "$WORK"
git clone --quiet team checkout
(cd checkout && pre-commit run --all-files)

say "5. load both profiles from the clone"
export PL_AUTH_PROFILE_PATH="$WORK/checkout/profiles"
export SOPS_AGE_KEY_FILE="$WORK/alice.txt"
planet-profiles list
call_api billing
planet-profiles login web
call_api web

say "6. bob joins: add his recipient, rekey, commit; bob's key now decrypts"
cd "$WORK/team"
printf '      - %s\n' "$BOB" >> .sops.yaml
planet-profiles rekey profiles
git add -A
git commit --quiet -m "payments: add bob"
cd "$WORK/checkout"
git pull --quiet
export SOPS_AGE_KEY_FILE="$WORK/bob.txt"
mkdir -p "$WORK/bob-home"
HOME="$WORK/bob-home" call_api billing  # bob's own machine: his HOME, his key
say "done"
