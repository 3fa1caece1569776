SELECT sku, json_extract(tags, '$[0]'), upper(substr(title, 1, 5)), printf('%08.3f', price), hex(sku)
FROM product WHERE tags LIKE '%t3%' OR title GLOB 'product [A-C]*';
