from tests.factories import DEFAULT_PASSWORD, make_user


def test_token_then_me(app_ctx, client):
    user = make_user(email="wang@example.org")
    response = client.post(
        "/api/v1/tokens", json={"login": "wang@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 201, response.json
    token = response.json["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["id"] == user.id
    assert me.json["roles"] == ["learner"]
