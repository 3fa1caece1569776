SELECT subject, snippet(note, 1, '[', ']', '...', 4) FROM note WHERE note MATCH 'paid AND customer' ORDER BY rank LIMIT 5;
