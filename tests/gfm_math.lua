-- GitHub's maths syntax for pandoc before 3.1.4 (which reads it itself, extension
-- tex_math_gfm): a ```math fence becomes display maths, $`…`$ inline maths.
-- Use with the gfm reader: pandoc -f gfm --lua-filter tests/gfm_math.lua file.md

function CodeBlock(el)
  if el.classes[1] == "math" then
    return pandoc.Para({ pandoc.Math("DisplayMath", el.text) })
  end
end

function Inlines(inlines)
  local i = 1
  while i <= #inlines - 2 do
    local a, b, c = inlines[i], inlines[i + 1], inlines[i + 2]
    if a.t == "Str" and a.text:sub(-1) == "$" and b.t == "Code"
        and c.t == "Str" and c.text:sub(1, 1) == "$" then
      local new = {}
      if #a.text > 1 then table.insert(new, pandoc.Str(a.text:sub(1, -2))) end
      table.insert(new, pandoc.Math("InlineMath", b.text))
      if #c.text > 1 then table.insert(new, pandoc.Str(c.text:sub(2))) end
      inlines:remove(i)
      inlines:remove(i)
      inlines:remove(i)
      for k = #new, 1, -1 do inlines:insert(i, new[k]) end
      i = i + #new
    else
      i = i + 1
    end
  end
  return inlines
end
