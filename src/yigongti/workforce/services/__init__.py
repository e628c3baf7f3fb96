"""The only writers of the app's tables: one function per business verb (postings, rota, attendance)."""
