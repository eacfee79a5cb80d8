"""Sign-up, sign-in (with two-factor for staff), passwords and sign-out."""
