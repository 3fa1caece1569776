SELECT c.name, count(*) AS n, max(o.placed)
FROM customer c JOIN orders o ON o.customer = c.id
WHERE c.country IN ('FR', 'JP') AND o.status <> 'void'
GROUP BY c.id HAVING n > 2 ORDER BY n DESC, c.name LIMIT 10;
