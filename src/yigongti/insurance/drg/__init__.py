"""CHS-DRG grouping driven by the national tables (rule packs in ``insurance/rules``), pure Python, no Django.

    pack = load_pack(path)            # verifies the version's declared counts; RulePackError if they differ
    result = group(pack, case)        # GroupResult with its trace
    results = group_many(pack, cases)
"""
