"""The library as an installed program links it: one static archive and the headers it needs."""

def _library_archive_impl(ctx):
    archives = []
    headers = []
    public_headers = []
    seen = {}
    for dep in ctx.attr.deps:
        cc = dep[CcInfo]
        for linker_input in cc.linking_context.linker_inputs.to_list():
            for library in linker_input.libraries:
                archive = library.pic_static_library or library.static_library
                # third_party wraps Debian's libraries, which tokenbox.pc names instead.
                if archive == None or archive.owner.package.startswith("third_party"):
                    continue
                if archive.path not in seen:
                    seen[archive.path] = True
                    archives.append(archive)
        public_headers.extend(cc.compilation_context.direct_public_headers)
        for header in cc.compilation_context.headers.to_list():
            if header.is_source and header.owner.workspace_name == "" and header.path not in seen:
                seen[header.path] = True
                headers.append(header)

    archive = ctx.actions.declare_file("lib%s.a" % ctx.attr.library_name)
    script = ctx.actions.declare_file(ctx.attr.name + ".mri")
    ctx.actions.write(script, "".join(
        ["create %s\n" % archive.path] +
        ["addlib %s\n" % a.path for a in archives] +
        ["save\n", "end\n"],
    ))
    ctx.actions.run_shell(
        inputs = archives + [script],
        outputs = [archive],
        command = "ar -M < %s" % script.path,
        mnemonic = "MergeArchives",
        progress_message = "Merging %d archives into %s" % (len(archives), archive.short_path),
    )
    header_list = ctx.actions.declare_file(ctx.attr.name + ".headers")
    ctx.actions.write(header_list, "".join(sorted(["%s\n" % h.short_path for h in public_headers])))
    files = [archive, header_list]
    return [DefaultInfo(
        files = depset(files),
        runfiles = ctx.runfiles(files = files + headers),
    )]

# `lib<library_name>.a`, every archive of this project's own that `deps` link, merged; and
# `<name>.headers`, the headers `deps` declare, one path a line (relative to the workspace), with
# every header of the project's in its runfiles: tools/install/install.sh installs those and the
# ones they include.
library_archive = rule(
    implementation = _library_archive_impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "library_name": attr.string(mandatory = True),
    },
)
