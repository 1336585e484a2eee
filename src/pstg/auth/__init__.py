"""Users, roles and tokens: who may read and do what through the API.

- roles.py: `Role`, viewer < operator < engineer < admin;
- passwords.py: argon2id hashing; tokens.py: JWT access tokens and `pstg_` API tokens;
- tables.py: the users / api_tokens / settings tables; secret.py: the JWT signing key;
- users.py: managing users and API tokens (the CLI and the admin API);
- service.py: `AuthService`, which logs users in and turns bearer tokens into a `Principal`.

See docs/security.md.
"""
