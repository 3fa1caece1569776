UPDATE orders SET status = 'paid' WHERE customer = 7 AND status = 'new';
SELECT what, json_extract(detail, '$.customer') FROM audit WHERE what = 'paid' ORDER BY at DESC LIMIT 5;
