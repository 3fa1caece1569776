// Lua 5.4 (the lua-src package's sources) running a script of ours n times, each in a fresh state with the base,
// string, table and math libraries: recursive calls, closures, table inserts and sorts, string building, pattern
// matching and formatting, integer and float arithmetic; the checksum folds in what each part returns.
//
// Built without setjmp/longjmp (see build-program.sh): a Lua error traps, and the script raises none.
// bench: kind=interpreter n=2 smoke=1 from=lua-src

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "input.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

// What Lua's libraries reach of the C library beyond memory and strings, defined here so that the module needs no
// WASI import: the math library seeds its generator from time() (fixed here, so every engine draws the same
// numbers), and lauxlib's luaL_loadfilex, which the script never calls, opens files through fopen and stdin.
time_t time(time_t *t) {
    if (t)
        *t = 0;
    return 0;
}

FILE *fopen(const char *restrict path, const char *restrict mode) {
    (void)path, (void)mode;
    return NULL;
}

FILE *freopen(const char *restrict path, const char *restrict mode, FILE *restrict f) {
    (void)path, (void)mode, (void)f;
    return NULL;
}

FILE *const stdin = NULL;

static const char script[] =
    "local n = ...\n"
    "local sum = 0\n"
    "local function fib(k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end\n"
    "sum = sum + fib(15 + n % 3)\n"
    // Closures and upvalues.
    "local function counter() local c = 0 return function(d) c = c + d return c end end\n"
    "local cs = {}\n"
    "for i = 1, 50 do cs[i] = counter() end\n"
    "for r = 1, 50 do for i = 1, #cs do sum = sum + cs[i](r % 7) end end\n"
    // Tables: array and hash parts, sorting with a comparator.
    "local t = {}\n"
    "for i = 1, 2000 do t[i] = math.random(1, 1000000) end\n"
    "table.sort(t, function(a, b) return a > b end)\n"
    "for i = 1, #t, 97 do sum = sum + t[i] end\n"
    "local h = {}\n"
    "for i = 1, 2000 do h['k' .. (i * 7919 % 503)] = i end\n"
    "for k, v in pairs(h) do sum = sum + #k + v end\n"
    // Strings: building, patterns, formatting.
    "local parts = {}\n"
    "for i = 1, 300 do parts[#parts + 1] = string.format('%d:%x:%.3f', i, i * 31, i / 7) end\n"
    "local s = table.concat(parts, ',')\n"
    "for a, b in s:gmatch('(%d+):(%x+)') do sum = sum + tonumber(a) + tonumber(b, 16) end\n"
    "sum = sum + #s:gsub('%d', 'x') + #s:upper():rep(2)\n"
    "local words = 0\n"
    "for w in (s:sub(1, 2000)):gmatch('[^,]+') do words = words + #w end\n"
    "sum = sum + words\n"
    // Floats.
    "local x = 0.0\n"
    "for i = 1, 5000 do x = x + math.sin(i) * math.sqrt(i) / (1 + i % 13) end\n"
    "sum = sum + math.floor(x * 1000)\n"
    // Objects with metatables.
    "local V = {}\n"
    "V.__index = V\n"
    "V.__add = function(a, b) return setmetatable({x = a.x + b.x, y = a.y + b.y}, V) end\n"
    "function V.new(x, y) return setmetatable({x = x, y = y}, V) end\n"
    "function V:dot(o) return self.x * o.x + self.y * o.y end\n"
    "local acc = V.new(0, 0)\n"
    "for i = 1, 2000 do acc = acc + V.new(i % 17, i % 23) end\n"
    "sum = sum + acc:dot(V.new(3, 5))\n"
    "return sum % 4294967296\n";

static void *allocate(void *ud, void *ptr, size_t old, size_t size) {
    (void)ud, (void)old;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

static uint32_t once(uint32_t i) {
    lua_State *L = lua_newstate(allocate, NULL);
    if (!L)
        return 0xbad00001u;
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},
        {LUA_TABLIBNAME, luaopen_table},
        {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math},
    };
    for (size_t k = 0; k < sizeof libs / sizeof libs[0]; k++) {
        luaL_requiref(L, libs[k].name, libs[k].func, 1);
        lua_pop(L, 1);
    }
    if (luaL_loadbuffer(L, script, sizeof script - 1, "bench") != LUA_OK)
        return 0xbad00002u;
    lua_pushinteger(L, (lua_Integer)i);
    lua_call(L, 1, 1);
    uint32_t result = (uint32_t)lua_tointeger(L, -1);
    lua_close(L);
    return result;
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t sum = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        sum = (sum ^ once(i)) * 16777619u;
    return sum;
}
