import planet_auth_utils


def main():
    auth_ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context_from_custom_config(
        client_config={
            "client_type": "oidc_auth_code",
            "auth_server": "https://login.example.com/",
            "client_id": "your_client_id",
            "local_redirect_uri": "http://localhost:8080",
            "audiences": ["https://api.planet.com/"],
            "scopes": ["offline_access", "openid", "profile", "planet"],
        },
        profile_name="_my_profile_name_",
        save_token_file=False,
        save_profile_config=False,
    )
    print("Auth context initialized in memory. Auth client class: {}".format(auth_ctx.auth_client().__class__.__name__))


if __name__ == "__main__":
    main()
