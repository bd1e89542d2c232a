"""Tutorial stage 7: profiles, the fourth signal, and a slow roll only they explain."""
