# The buildings' metadata of a tileset's GLBs as the e2e tests read it (sourced by their
# python: sys.path gets tests/e2e): rows(GLOB) maps each building's id to its STRING and
# FLOAT64 properties (None for noData), from every property table of every file.
import glob
import json
import struct


def rows(pattern):
    out = {}
    for path in glob.glob(pattern):
        b = open(path, "rb").read()
        jl = struct.unpack_from("<I", b, 12)[0]
        j = json.loads(b[20:20 + jl])
        binary = b[20 + jl + 8:]
        ext = j["extensions"]["EXT_structural_metadata"]
        cls = ext["schema"]["classes"]["building"]["properties"]
        for t in ext["propertyTables"]:
            def view(i):
                v = j["bufferViews"][i]
                o = v.get("byteOffset", 0)
                return binary[o:o + v["byteLength"]]
            cols = {}
            for name, p in t["properties"].items():
                if cls[name]["type"] == "STRING":
                    vals, offs = view(p["values"]), view(p["stringOffsets"])
                    o = struct.unpack("<%dI" % (len(offs) // 4), offs)
                    cols[name] = [vals[o[k]:o[k + 1]].decode() for k in range(t["count"])]
                elif cls[name].get("componentType") == "FLOAT64":
                    nd = cls[name].get("noData")
                    cols[name] = [None if x == nd else x for x in struct.unpack("<%dd" % t["count"], view(p["values"]))]
            for k in range(t["count"]):
                out[cols["id"][k]] = {n: c[k] for n, c in cols.items()}
    return out
