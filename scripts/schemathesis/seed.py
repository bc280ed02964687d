"""Seeds a Layer4 server for a schemathesis run and prints the fuzzing user's token.

    python seed.py API_URL GATEWAY_URL_OR_- OUT_DIR

Registers the fuzzing user and two others, and makes what the routes act on, in
every relation to the fuzzing user: a private group it owns with both others, a
public group it owns, a public group of another user (visible, not a member: 403),
a private group of others (404), a DM with one user (the third is blocked), and,
when the gateway URL is given, messages in the groups (sent over the gateway: the
API has no send route) and a thread on one of them. Every id goes to
OUT_DIR/ids.dict (libFuzzer dictionary format), which schemathesis.toml binds to the
id parameters, so part of the generated requests reach real rows instead of 404.
"""

import json
import secrets
import sys

import requests
import websocket


def post(url, path, token, body):
    headers = {"Authorization": "Bearer " + token} if token else {}
    answer = requests.post(url + path, json=body, headers=headers, timeout=30)
    if answer.status_code not in (200, 201):
        sys.exit("seed: POST {} answered {}: {}".format(path, answer.status_code, answer.text[:300]))
    return answer.json()


def register(url, display_name):
    body = post(
        url,
        "/api/auth/register",
        None,
        {
            "username": "st_" + secrets.token_hex(6),
            "password": secrets.token_hex(12),
            "display_name": display_name,
        },
    )
    return body["user"]["id"], body["token"]


def group(url, token, name, visibility, members):
    body = post(
        url,
        "/api/chat/channels",
        token,
        {"name": name, "visibility": visibility, "member_ids": members},
    )
    return body["channel"]["id"]


def send_messages(gateway, token, channel, texts):
    """Sends `texts` to `channel` as the token's user; answers the message ids."""
    sep = "&" if "?" in gateway else "?"
    ws = websocket.create_connection(gateway + sep + "v=1&encoding=json", timeout=30)
    try:
        ws.send(json.dumps({"t": "IDENTIFY", "d": {"token": token}}))
        wait_for(ws, lambda frame: frame.get("t") == "READY")
        ids = []
        for n, text in enumerate(texts, start=1):
            ws.send(
                json.dumps(
                    {"t": "SEND_MESSAGE", "id": n, "d": {"channel_id": channel, "content": text}}
                )
            )
            reply = wait_for(ws, lambda frame, n=n: frame.get("id") == n)
            if reply.get("t") != "ACK":
                sys.exit("seed: SEND_MESSAGE answered {}".format(json.dumps(reply)[:300]))
            ids.append(reply["d"]["message"]["id"])
        return ids
    finally:
        ws.close()


def wait_for(ws, wanted):
    for _ in range(1000):
        frame = json.loads(ws.recv())
        if wanted(frame):
            return frame
    sys.exit("seed: the gateway did not answer")


def main(url, gateway, out_dir):
    me, token = register(url, "Schemathesis")
    bob, bob_token = register(url, "Bob Builder")
    cy, cy_token = register(url, "Cy Twombly")
    mine = group(url, token, "fuzz private", "private", [bob, cy])
    public = group(url, token, "fuzz public", "public", [])
    theirs_public = group(url, bob_token, "bob public", "public", [cy])
    theirs_private = group(url, bob_token, "bob private", "private", [cy])
    dm = post(url, "/api/chat/dm/create", token, {"user_id": bob})["channel"]["id"]
    requests.put(
        url + "/api/chat/users/{}/block".format(cy),
        headers={"Authorization": "Bearer " + token},
        timeout=30,
    ).raise_for_status()
    ids = [me, bob, cy, mine, public, theirs_public, theirs_private, dm]
    if gateway != "-":
        messages = send_messages(gateway, token, mine, ["hello", "second"])
        messages += send_messages(gateway, bob_token, theirs_public, ["from bob"])
        messages += send_messages(gateway, cy_token, theirs_private, ["from cy"])
        thread = post(
            url, "/api/chat/messages/{}/thread".format(messages[0]), token, {"name": "fuzz thread"}
        )["channel"]["id"]
        ids += messages + [thread]
    with open(out_dir + "/ids.dict", "w", encoding="utf-8") as f:
        f.write("# ids of the seeded users, channels and messages\n")
        for value in ids:
            f.write('"{}"\n'.format(value))
    print(token)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3])
