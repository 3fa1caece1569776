SELECT country, total, orders FROM revenue ORDER BY total DESC LIMIT 3;
