from tests.factories import UserFactory


def test_factories_and_inbox(client, auth):
    user = UserFactory()
    auth.login(user)
    response = client.get("/inbox/")
    assert response.status_code == 200
    assert "You have no messages." in response.get_data(as_text=True)
